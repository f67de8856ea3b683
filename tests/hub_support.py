"""A real JupyterHub on this machine for tests/test_hub.py: the hub (this environment's
`jupyterhub`), its proxy (`configurable-http-proxy` from npm, in .workshop/hub-proxy), learners
who log in with a password, and their single-user servers started through the hub.

The spawner is JupyterHub's SimpleLocalProcessSpawner: every learner's server runs as the same
OS user as the test, each with a home folder of its own into which the server copies the course
the first time (the command the instructor guide gives The Littlest JupyterHub). That tests what
the course controls (each server's settings, prefix, databases); keeping learners' files and
processes apart is the real deployment's spawner's job (TLJH's system users, Z2JH's pods).
"""

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from helpers import execute_cell
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from workshop_app.workshop.settings import ROOT

PROXY = ROOT / ".workshop" / "hub-proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
MARK = "WORKSHOP_HUB_TEST"  # in the environment of every process the test's hub starts


def learner_settings(name: str, room_folder: Path) -> dict[str, str]:
    """The settings hub user `name`'s server gets (through the spawner's environment): the line
    `workshop room` wrote for that learner (<learner>.env), a login of their own on the shared
    server. Nothing else: the learner's prefix comes from that login."""
    from workshop_app.workshop.settings import learner_slug

    line = (room_folder / f"{learner_slug(name)}.env").read_text().strip()
    key, _, value = line.partition("=")
    return {key: value}


# The learner's server command (bash -c): the guide's, with this machine's paths.
START = (
    'test -d "$HOME/course" || cp -R {course} "$HOME/course"; '
    'export PYTHONPATH="$HOME/course"; exec {singleuser} "$@"'
)

CONFIG = """\
# Written by tests/hub_support.py for one test run.
import json

c = get_config()  # noqa: F821
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.db_url = "sqlite:///{state}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{state}/jupyterhub_cookie_secret"

c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = {password!r}
SETTINGS = json.loads({settings!r})  # learner -> environment (hub_support.learner_settings)
c.Authenticator.allowed_users = set(SETTINGS)

c.JupyterHub.spawner_class = "simple"  # same OS user, a home folder per learner
c.SimpleLocalProcessSpawner.home_dir_template = "{homes}/{{username}}"
# As the instructor guide has it: the learner's server copies the course into their home the
# first time, and imports the course from there.
c.Spawner.cmd = {cmd!r}
c.Spawner.args = {args!r}
c.Spawner.notebook_dir = "~/course/notebooks"
c.Spawner.default_url = "/lab"
c.Spawner.environment = {{"JUPYTER_PLATFORM_DIRS": "1", "{mark}": {run!r}}}
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180


def pre_spawn_hook(spawner):  # the learner's settings (hub_support.learner_settings)
    spawner.environment = {{**spawner.environment, **SETTINGS[spawner.user.name]}}


c.Spawner.pre_spawn_hook = pre_spawn_hook
"""


@dataclass
class Hub:
    """A running hub: its public URL, its folder (config, state, log, homes) and process."""

    base: str
    folder: Path
    password: str
    run: str
    process: subprocess.Popen | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def log(self) -> Path:
        return self.folder / "jupyterhub.log"

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_ports(n: int) -> list[int]:
    """n distinct free ports on 127.0.0.1 (held open together, so they differ)."""
    import socket

    probes = [socket.socket() for _ in range(n)]
    try:
        for p in probes:
            p.bind(("127.0.0.1", 0))
        return [p.getsockname()[1] for p in probes]
    finally:
        for p in probes:
            p.close()


def start_hub(folder: Path, settings: dict[str, dict[str, str]]) -> Hub:
    """Write the config and start `jupyterhub`; return once the hub answers through its proxy."""
    port, hub_port, api_port = free_ports(3)
    run = uuid.uuid4().hex
    password = uuid.uuid4().hex  # SharedPasswordAuthenticator wants at least 8 characters
    (folder / "state").mkdir(parents=True)
    (folder / "homes").mkdir()
    course = folder / "course"  # a clean copy of the checkout, as an instructor's clone is
    shutil.copytree(
        ROOT,
        course,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            ".workshop",
            ".env",
            "sandbox",
            "__pycache__",
            "*.egg-info",
            ".pytest_cache",
            ".ruff_cache",
            "node_modules",
            "build",
        ),
    )
    args = ["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []
    bin_dir = Path(sys.executable).parent
    config = CONFIG.format(
        port=port,
        hub_port=hub_port,
        api_port=api_port,
        proxy=str(PROXY),
        mark=MARK,
        run=run,
        state=folder / "state",
        password=password,
        settings=json.dumps(settings),
        homes=folder / "homes",
        cmd=[
            "bash",
            "-c",
            START.format(
                course=shlex.quote(str(course)),
                singleuser=shlex.quote(str(bin_dir / "jupyterhub-singleuser")),
            ),
            "course",
        ],
        args=args,
    )
    (folder / "jupyterhub_config.py").write_text(config)
    env = {**os.environ, MARK: run, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    hub = Hub(f"http://127.0.0.1:{port}", folder, password, run)
    with hub.log.open("w") as log:
        hub.process = subprocess.Popen(
            [str(bin_dir / "jupyterhub"), "-f", str(folder / "jupyterhub_config.py")],
            cwd=folder / "state",
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + 90
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{hub.base}/hub/api/", timeout=5).status_code == 200:
                return hub
        if hub.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"JupyterHub did not come up:\n{hub.log_tail()}")
        time.sleep(0.5)


def stop_hub(hub: Hub) -> None:
    """Stop the hub (it stops the learners' servers and its proxy), then anything it started
    that is still running: the processes whose environment carries this run's mark."""
    if hub.process and hub.process.poll() is None:
        hub.process.send_signal(signal.SIGTERM)
        try:
            hub.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(hub.process.pid, signal.SIGKILL)
            hub.process.wait(10)
    left = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if proc.environ().get(MARK) == hub.run:
                left.append(proc)
    for proc in left:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(left, timeout=10)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()


def log_in(hub: Hub, name: str, password: str) -> httpx.Client | None:
    """Log in through the hub's login form, as a browser does; None if the hub refused."""
    client = httpx.Client(base_url=hub.base, timeout=30)
    client.get("/hub/login")  # sets the _xsrf cookie the form must send back
    reply = client.post(
        "/hub/login",
        data={
            "username": name,
            "password": password,
            "_xsrf": client.cookies.get("_xsrf", ""),
        },
    )
    if reply.status_code != 302 or "jupyterhub-hub-login" not in client.cookies:
        client.close()
        return None
    return client


def token_for(hub: Hub, client: httpx.Client, name: str) -> str:
    """An API token the learner makes for themself, while logged in (cookie + xsrf)."""
    reply = client.post(
        f"/hub/api/users/{name}/tokens",
        json={"note": "hub test", "expires_in": 3600},
        headers={"X-XSRFToken": client.cookies.get("_xsrf", "")},
    )
    assert reply.status_code == 201, reply.text
    hub.tokens[name] = reply.json()["token"]
    return hub.tokens[name]


def api(hub: Hub, name: str, method: str, path: str, **kw: object) -> httpx.Response:
    """A request as learner `name` (their token) to the hub, `/hub/...`, or their server,
    `/user/<name>/...`, both through the proxy."""
    headers = {"Authorization": f"token {hub.tokens[name]}"}
    return httpx.request(method, f"{hub.base}{path}", headers=headers, timeout=60, **kw)


def start_server(hub: Hub, name: str, timeout: float = 240) -> None:
    """Ask the hub to start the learner's server and wait until it is ready."""
    reply = api(hub, name, "POST", f"/hub/api/users/{name}/server")
    assert reply.status_code in (201, 202), reply.text
    deadline = time.monotonic() + timeout
    while True:
        server = api(hub, name, "GET", f"/hub/api/users/{name}").json()["servers"].get("", {})
        if server.get("ready"):
            return
        assert time.monotonic() < deadline, f"{name}'s server not ready:\n{hub.log_tail()}"
        time.sleep(1)


@dataclass
class CellRun:
    index: int
    status: str
    output: str


async def execute(hub: Hub, name: str, kernel: str, cells: list[str]) -> list[CellRun]:
    """Run `cells` one after another in the kernel, over its websocket through the proxy, as
    JupyterLab does; stop at the first that fails."""
    url = hub.base.replace("http", "ws", 1) + f"/user/{name}/api/kernels/{kernel}/channels"
    request = HTTPRequest(url, headers={"Authorization": f"token {hub.tokens[name]}"})
    ws = await websocket_connect(request)
    session, runs = uuid.uuid4().hex, []
    try:
        for index, code in enumerate(cells):
            output, status = await execute_cell(
                ws, code, session=session, username=name, timeout=180
            )
            runs.append(CellRun(index, status, output))
            if status != "ok":
                break
    finally:
        ws.close()
    return runs
