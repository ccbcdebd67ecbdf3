"""JupyterHub's configuration for the course hub; `hub.sh up` copies it into the hub's state folder.

What changes from one hub to the next (ports, users, paths) is in hub.json beside it, which hub.py writes: this file
holds the choices, so that it reads as the configuration of a real hub of the same kind.
"""

import json
from pathlib import Path

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file
here = Path(__file__).resolve().parent
hub = json.loads((here / "hub.json").read_text())

# Students reach the proxy; the hub's own API and the proxy's API stay on the loopback.
c.JupyterHub.bind_url = hub["bind_url"]
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{hub['hub_port']}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{hub['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [hub["proxy"]]
c.ConfigurableHTTPProxy.pid_file = str(here / "jupyterhub-proxy.pid")
c.JupyterHub.pid_file = str(here / "jupyterhub.pid")
c.JupyterHub.db_url = f"sqlite:///{here / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(here / "jupyterhub_cookie_secret")

# Real Unix users, checked by PAM against the passwords hub.sh set. No PAM session: the hub needs the password check
# only, and the session modules of Debian's `login` service (pam_loginuid, pam_systemd, lastlog, motd) are meant for
# terminal logins; where one fails (in many containers) JupyterHub refuses the spawn.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
# JupyterHub 5 lets nobody in unless named: the course's accounts, and nobody else who has a password here.
c.Authenticator.allowed_users = set(hub["students"]) | {hub["instructor"]}
c.Authenticator.admin_users = {hub["instructor"]}

# Each server runs as its own Unix user (LocalProcessSpawner): nbgrader's student id is the Unix user name, so one
# shared account (SimpleLocalProcessSpawner, or jovyan everywhere: nbgrader #667) would make every submission one student's.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [hub["singleuser"]]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {"PATH": hub["user_path"], "LANG": "C.UTF-8"}
# A server's first start imports JupyterLab and nbgrader: on a loaded two-core machine that may take a minute.
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 180
