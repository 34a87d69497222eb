"""CDK app of the Prakerja platform: one construct per concern, parameterised by stage."""
