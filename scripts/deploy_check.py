"""Deploys every built Lambda into the emulator with `cargo lambda deploy`
(role created first) and checks what landed: a cheap proof that packaging and
deploy settings (runtime, architecture, memory, timeout) are valid, and that
the emulator made the function usable: State Active and LastUpdateStatus
Successful, polled while Pending / InProgress. A Failed function fails the
check with the emulator's reason (LocalStack without the Docker socket marks
functions Failed: "Docker not available"); moto creates them Active.

Needs `make build` first and AWS_ENDPOINT_URL (scripts/with-emulator.sh sets it).
"""
import json
import os
import pathlib
import subprocess
import sys
import time

import boto3

ROOT = pathlib.Path(__file__).resolve().parent.parent
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def wait_ready(lam, name: str, timeout_s: float = 120.0, poll_s: float = 1.0) -> str | None:
    """None once the function is Active and its last update Successful, else
    why not: the emulator's reason for a Failed state or update, or what it
    still was at the deadline. A missing LastUpdateStatus (right after create)
    counts as settled."""
    deadline = time.monotonic() + timeout_s
    while True:
        conf = lam.get_function_configuration(FunctionName=name)
        state, update = conf.get("State"), conf.get("LastUpdateStatus")
        if state == "Failed":
            return f"State Failed ({conf.get('StateReasonCode', '?')}: {conf.get('StateReason', 'no reason given')})"
        if update == "Failed":
            reason = conf.get("LastUpdateStatusReason", "no reason given")
            return f"LastUpdateStatus Failed ({conf.get('LastUpdateStatusReasonCode', '?')}: {reason})"
        if state == "Active" and update in (None, "Successful"):
            return None
        if time.monotonic() >= deadline:
            return f"still State {state}, LastUpdateStatus {update} after {timeout_s:.0f} s"
        time.sleep(poll_s)


def main() -> int:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        print("deploy-check: AWS_ENDPOINT_URL is not set (run through scripts/with-emulator.sh)", file=sys.stderr)
        return 2
    functions = sys.argv[1:]
    missing = [f for f in functions if not (ROOT / "target/lambda" / f / "bootstrap.zip").exists()]
    if missing:
        print(f"deploy-check: no build for {', '.join(missing)}; run `make build` first", file=sys.stderr)
        return 2
    topology = json.loads((ROOT / "infra/pipeline.json").read_text())
    sizes = {**topology["consumers"], "sre-buffer": topology["sre_buffer"]}
    iam = boto3.client("iam", endpoint_url=endpoint)
    try:
        role = iam.create_role(RoleName="deploy-check", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName="deploy-check")["Role"]["Arn"]
    lam = boto3.client("lambda", endpoint_url=endpoint)
    for f in functions:
        spec = sizes.get(f, {"memory_mb": 256, "timeout_s": 60})
        cmd = [
            "cargo", "lambda", "deploy", f, "--endpoint-url", endpoint, "--iam-role", role,
            "--memory", str(spec["memory_mb"]), "--timeout", str(spec["timeout_s"]),
            "--lambda-dir", str(ROOT / "target/lambda"), "--env-var", "RUST_LOG=info",
        ]
        subprocess.run(cmd, check=True, cwd=ROOT)
        why = wait_ready(lam, f)
        if why:
            print(f"deploy-check: {f} was deployed but is not usable: {why}", file=sys.stderr)
            return 1
        conf = lam.get_function(FunctionName=f)["Configuration"]
        got = (conf["Runtime"], conf["Architectures"], conf["Handler"], conf["MemorySize"], conf["Timeout"])
        want = ("provided.al2023", ["arm64"], "bootstrap", spec["memory_mb"], spec["timeout_s"])
        if got != want:
            print(f"deploy-check: {f} deployed as {got}, expected {want}", file=sys.stderr)
            return 1
        print(f"deploy-check: {f} ok ({conf['CodeSize']} bytes, {got[0]}, {got[1][0]}, {conf['State']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
