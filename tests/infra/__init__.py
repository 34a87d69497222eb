"""Tests of the synthesized CloudFormation templates (what `npx cdk deploy` would deploy)."""
