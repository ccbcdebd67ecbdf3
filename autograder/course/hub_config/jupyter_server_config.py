"""Every user server of the course hub (`hub.sh up` copies this into the hub venv's etc/jupyter).

JupyterHub 4.1+ sends `Content-Security-Policy: frame-ancestors 'none'` from each user's server unless the server
sets its own, and formgrader, which JupyterLab shows in an iframe of the same server, then stays blank
(nbgrader #1870, #1947). 'self' lets a server frame its own pages and nobody else's.
"""

c = get_config()  # noqa: F821 - provided by Jupyter Server when it loads this file
c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
