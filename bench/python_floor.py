"""Python stdlib floor for the handler benchmark: what any Python Lambda must
at least do with the same event file (parse the event JSON, base64-decode each
record, parse each line), with no validation, no pydantic, no aggregation.
Prints the median events/s of 7 runs. Usage: python3 bench/python_floor.py FILE"""
import base64
import json
import sys
import time


def run(body):
    n = 0
    for r in json.loads(body)["Records"]:
        for line in base64.b64decode(r["kinesis"]["data"]).split(b"\n"):
            try:
                json.loads(line)
            except ValueError:
                pass
            n += 1
    return n


def main():
    body = open(sys.argv[1], "rb").read()
    times, n = [], 0
    for _ in range(7):
        t = time.perf_counter()
        n = run(body)
        times.append(time.perf_counter() - t)
    times.sort()
    print(f"{n / times[3]:.0f}")


if __name__ == "__main__":
    main()
