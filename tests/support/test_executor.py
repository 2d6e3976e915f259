#!/usr/bin/env python3
"""A custom executor for tests, speaking Mesos' v1 executor HTTP API to the agent.

Runs every task it is given (it "runs" by reporting TASK_RUNNING), answers each framework
message with a message "echo:<data>", reports TASK_KILLED on KILL and exits once it has no
task left (or on SHUTDOWN). When the agent goes away it subscribes again for up to 20 s, with
its tasks and the updates the agent has not acknowledged, as Mesos executors do. Standard
library only.
"""
import base64
import http.client
import json
import os
import sys
import time
import uuid

AGENT = os.environ["MESOS_AGENT_ENDPOINT"]
FRAMEWORK = {"value": os.environ["MESOS_FRAMEWORK_ID"]}
EXECUTOR = {"value": os.environ["MESOS_EXECUTOR_ID"]}
tasks = {}
unacknowledged = {}  # uuid -> update


def call(body):
    """POSTs a call; False when the agent cannot be reached (it will get it on resubscription)."""
    host, port = AGENT.rsplit(":", 1)
    body.update({"framework_id": FRAMEWORK, "executor_id": EXECUTOR})
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("POST", "/api/v1/executor", json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        conn.close()
    except OSError:
        return False
    if resp.status != 202:
        sys.exit(f"{body['type']} answered {resp.status}")
    return True


def update(task_id, state, message=""):
    status = {"task_id": task_id, "state": state, "source": "SOURCE_EXECUTOR",
              "uuid": base64.b64encode(uuid.uuid4().bytes).decode(), "message": message}
    unacknowledged[status["uuid"]] = {"status": status}
    call({"type": "UPDATE", "update": {"status": status}})


def subscribe():
    host, port = AGENT.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port))
    body = {"type": "SUBSCRIBE", "framework_id": FRAMEWORK, "executor_id": EXECUTOR,
            "subscribe": {"unacknowledged_tasks": list(tasks.values()),
                          "unacknowledged_updates": list(unacknowledged.values())}}
    conn.request("POST", "/api/v1/executor", json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        sys.exit(f"SUBSCRIBE answered {resp.status}: {resp.read()!r}")
    return resp


def events():
    deadline = None
    while True:
        try:
            resp = subscribe()
            deadline = None
            while True:
                line = resp.readline()
                if not line:
                    break
                if line.strip():
                    yield json.loads(resp.read(int(line)))
        except OSError:
            pass
        # The agent went away: try again until it is back, for a while.
        deadline = deadline or time.monotonic() + 20
        if time.monotonic() > deadline:
            return
        time.sleep(0.1)


for event in events():
    kind = event.get("type")
    if kind == "LAUNCH":
        task = event["launch"]["task"]
        tasks[task["task_id"]["value"]] = task
        update(task["task_id"], "TASK_RUNNING")
    elif kind == "ACKNOWLEDGED":
        unacknowledged.pop(event["acknowledged"]["uuid"], None)
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
