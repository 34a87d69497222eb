"""CDK entry point: `npx cdk synth -c stage=staging` (default stage: dev)."""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The shared layer's package, for the names it shares with the stack (prakerja.metrics).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "shared"))

import aws_cdk as cdk

from prakerja_infra.nag import add_checks
from prakerja_infra.stack import PrakerjaStack
from prakerja_infra.stage import stage_config

# Feature flags, here rather than in cdk.json so that a direct `python infra/app.py` synth gets them.
FEATURE_FLAGS = {
    # Access logs delivered under a bucket policy, not the legacy LogDeliveryWrite ACL.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    # Distributed Map results written to S3 (a payout run's million results would not fit the state).
    "@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2": True,
    # ARNs name the partition literally where the region is known (the CDK CLI's synth).
    "@aws-cdk/core:enablePartitionLiterals": True,
}


def build_app(stage_name: str | None = None, outdir: str | None = None) -> cdk.App:
    # Run by the CDK CLI the output directory comes from CDK_OUTDIR; run directly, from outdir.
    direct = outdir and "CDK_OUTDIR" not in os.environ
    app = cdk.App(outdir=outdir, context=FEATURE_FLAGS) if direct else cdk.App(context=FEATURE_FLAGS)
    stage = stage_config(stage_name or app.node.try_get_context("stage") or "dev")
    PrakerjaStack(
        app,
        f"Prakerja-{stage.name}",
        stage=stage,
        description=f"Prakerja program platform ({stage.name})",
        env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
    )
    add_checks(app)
    return app


def _stage_argument() -> str | None:
    # `python infra/app.py -c stage=prod` mirrors the CDK CLI's context flag.
    args = sys.argv[1:]
    for flag, value in itertools.pairwise(args):
        if flag == "-c" and value.startswith("stage="):
            return value.removeprefix("stage=")
    return None


if __name__ == "__main__":
    build_app(_stage_argument(), outdir=str(Path(__file__).resolve().parents[1] / "cdk.out")).synth()
