#!/usr/bin/env python3
"""A custom executor for tests, speaking Mesos' v1 executor HTTP API to the agent.

Runs every task it is given (it "runs" by reporting TASK_RUNNING), answers each framework
message with a message "echo:<data>", reports TASK_KILLED on KILL and exits once it has no
task left (or on SHUTDOWN). Standard library only.
"""
import base64
import http.client
import json
import os
import sys
import uuid

AGENT = os.environ["MESOS_AGENT_ENDPOINT"]
FRAMEWORK = {"value": os.environ["MESOS_FRAMEWORK_ID"]}
EXECUTOR = {"value": os.environ["MESOS_EXECUTOR_ID"]}
tasks = {}


def call(body):
    host, port = AGENT.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    body.update({"framework_id": FRAMEWORK, "executor_id": EXECUTOR})
    conn.request("POST", "/api/v1/executor", json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    if resp.status != 202:
        sys.exit(f"{body['type']} answered {resp.status}")


def update(task_id, state, message=""):
    status = {"task_id": task_id, "state": state, "source": "SOURCE_EXECUTOR",
              "uuid": base64.b64encode(uuid.uuid4().bytes).decode(), "message": message}
    call({"type": "UPDATE", "update": {"status": status}})


def events():
    host, port = AGENT.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port))
    body = {"type": "SUBSCRIBE", "framework_id": FRAMEWORK, "executor_id": EXECUTOR,
            "subscribe": {"unacknowledged_tasks": [], "unacknowledged_updates": []}}
    conn.request("POST", "/api/v1/executor", json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        sys.exit(f"SUBSCRIBE answered {resp.status}: {resp.read()!r}")
    while True:
        line = resp.readline()
        if not line:
            return
        if line.strip():
            yield json.loads(resp.read(int(line)))


for event in events():
    kind = event.get("type")
    if kind == "LAUNCH":
        task = event["launch"]["task"]
        tasks[task["task_id"]["value"]] = task
        update(task["task_id"], "TASK_RUNNING")
    elif kind == "MESSAGE":
        data = base64.b64decode(event["message"]["data"])
        call({"type": "MESSAGE", "message": {"data": base64.b64encode(b"echo:" + data).decode()}})
    elif kind == "KILL":
        task_id = event["kill"]["task_id"]
        tasks.pop(task_id["value"], None)
        update(task_id, "TASK_KILLED", "killed by the test executor")
        if not tasks:
            break
    elif kind == "SHUTDOWN":
        for task_id in list(tasks):
            update({"value": task_id}, "TASK_KILLED", "executor shut down")
        break
