"""JupyterLab as a student meets it, for the browser tests: a server with nbgrader's extensions, and a page.

The server runs in a scratch folder on 127.0.0.1 with a random port and token, with its own config,
settings and runtime folders so that nothing from the machine's Jupyter setup leaks in. The page helpers
drive JupyterLab 4's notebook through its DOM: open, run all, wait, read each cell's outputs, screenshot.
"""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import psutil

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
MAX_SCREENSHOT_HEIGHT = 30_000
# No news or update checks: the machine has no network, and the toast would cover the screenshots.
LAB_SETTINGS = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False}}


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_lab_settings(folder):
    for name, values in LAB_SETTINGS.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _wait_until_up(url, process, log, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer {url} within {timeout} s:\n{log.read_text()[-3000:]}")


def _stop(process):
    """Stop the server's process group, then any kernel it started (kernels get sessions of their own)."""
    try:
        kernels = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        kernels = []
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        if process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(wait)
            except subprocess.TimeoutExpired:
                pass
    for kernel in kernels:
        if kernel.is_running():
            kernel.kill()


@contextmanager
def jupyterlab(root, scratch, extra_args=()):
    """Run JupyterLab on root (cwd too, so the Validate button reads root/nbgrader_config.py); yield (url, token).

    extra_args go to the server, e.g. --CourseDirectory.root=... for formgrader."""
    token, port = secrets.token_hex(16), _free_port()
    _write_lab_settings(scratch / "lab-settings")
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(scratch / "config"),
        JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(scratch / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(scratch / "workspaces"),
    )
    log = scratch / "jupyterlab.log"
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.port_retries=0",
        "--allow-root",
        *extra_args,
    ]
    with open(log, "w") as log_file:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{url}/api/status?token={token}", process, log)
        yield url, token
    finally:
        _stop(process)


# --- the page ---------------------------------------------------------------------------------------


def open_notebook(page, url, token, path):
    """Open path in a fresh JupyterLab workspace of its own, wait for its kernel, close the left sidebar.

    One workspace per notebook: two tabs on one workspace make JupyterLab redirect the second elsewhere.
    """
    workspace = re.sub(r"[^A-Za-z0-9]+", "-", path)
    page.goto(f"{url}/lab/workspaces/{workspace}/tree/{path}?reset&token={token}")
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    # Run All before the kernel is connected only moves the selection: wait for "Python 3 (ipykernel) | Idle".
    page.wait_for_function(KERNEL_IDLE_JS, timeout=90_000, polling=250)
    if page.locator("#jp-left-stack").is_visible():
        page.keyboard.press("Control+b")


def start_run_all(page):
    """Run > Run All Cells, and wait until the queue shows ([*]): a notebook saved with outputs looks done before."""
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
    page.wait_for_function(QUEUED_JS, timeout=30_000, polling=100)


def wait_until_all_ran(page, timeout, screenshot_on_timeout):
    """Wait until no cell is queued or running; on timeout, save a screenshot and say which cells ran."""
    try:
        page.wait_for_function(ALL_RAN_JS, timeout=timeout * 1000, polling=500)
    except Exception as error:
        page.screenshot(path=screenshot_on_timeout)
        prompts = page.evaluate(PROMPTS_JS)
        raise AssertionError(f"Run All did not finish in {timeout} s; prompts: {prompts}; see {screenshot_on_timeout}") from error


KERNEL_IDLE_JS = """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(
    item => /[|] Idle$/.test(item.textContent.trim()) && !item.textContent.startsWith('No Kernel'))"""
PROMPTS_JS = "() => [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent)"
QUEUED_JS = f"() => ({PROMPTS_JS})().some(p => p.includes('*'))"
ALL_RAN_JS = f"""() => {{
    const prompts = ({PROMPTS_JS})();
    return prompts.length > 0 && /[0-9]/.test(prompts[0]) && !prompts.some(p => p.includes('*'));
}}"""


CELLS_JS = """() => [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook > .jp-WindowedPanel-outer .jp-Cell')].map(cell => ({
    type: cell.classList.contains('jp-CodeCell') ? 'code' : 'markdown',
    prompt: (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '',
    stderr: [...cell.querySelectorAll(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")].map(o => o.textContent),
    text: [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => o.textContent).join('\\n'),
    widgets: cell.querySelectorAll('.jp-OutputArea-output .widget-hprogress').length,
    images: [...cell.querySelectorAll('.jp-OutputArea-output img')].map(i => ({
        complete: i.complete, width: i.naturalWidth, height: i.naturalHeight, shown: i.getBoundingClientRect().width})),
}))"""


def cells(page):
    """What the page shows of each cell, in notebook order: type, prompt, stderr outputs, text, progress bars, images."""
    return page.evaluate(CELLS_JS)


def screenshot_whole_notebook(page, path):
    """A screenshot of the whole notebook: the viewport is grown until the notebook fits, then restored."""
    measure = """() => {
        const scroller = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
        scroller.scrollTop = 0;
        const cells = scroller.querySelectorAll('.jp-Cell');
        const bottom = cells[cells.length - 1].getBoundingClientRect().bottom - scroller.getBoundingClientRect().top;
        return [Math.ceil(bottom), scroller.clientHeight];  // not scrollHeight: it counts the scroll-past-end padding
    }"""
    height = VIEWPORT["height"]
    for _ in range(4):  # offscreen cells get their real height only once shown: grow until it settles
        inner, outer = page.evaluate(measure)
        if inner <= outer:
            break
        height = min(height + inner - outer + 20, MAX_SCREENSHOT_HEIGHT)
        page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        page.wait_for_timeout(1000)
    page.screenshot(path=path)
    page.set_viewport_size(VIEWPORT)
    page.wait_for_timeout(300)


# --- explorers (ipywidgets) --------------------------------------------------------------------------


def cell_locator(page, index):
    """The index-th cell of the open notebook (notebook order, as cells() lists them)."""
    return page.locator(".jp-NotebookPanel .jp-Notebook > .jp-WindowedPanel-outer .jp-Cell").nth(index)


def explorer_controls(cell):
    """The live controls an explorer cell shows: [(kind, locator)] for its sliders, dropdowns and toggle buttons."""
    found = [("slider", c) for c in cell.locator(".widget-slider").all()]
    found += [("dropdown", c) for c in cell.locator(".widget-dropdown select").all()]
    found += [("toggle", c) for c in cell.locator(".widget-toggle-buttons").all()]
    return found


def explorer_image(cell):
    """The explorer's figure, a widget image (not the plain fallback image, which a live frontend does not show)."""
    return cell.locator("img.widget-image").first


def control_state(kind, control):
    """What a control shows now: a slider's value, a dropdown's choice, the label of the pressed toggle button."""
    if kind == "slider":
        return control.locator(".noUi-handle").first.get_attribute("aria-valuenow")
    if kind == "dropdown":
        return control.input_value()
    return control.locator("button.mod-active").first.inner_text()


def _nudge(page, kind, control):
    if kind == "slider":
        handle = control.locator(".noUi-handle").first
        at_max = float(handle.get_attribute("aria-valuenow")) >= float(handle.get_attribute("aria-valuemax"))
        handle.focus()
        for _ in range(3):
            page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
    elif kind == "dropdown":
        options = control.locator("option").all_inner_texts()
        current = control.input_value()
        control.select_option(next(o for o in options if o != current))
    else:
        control.locator("button:not(.mod-active)").first.click()


def move(page, kind, control, attempts=3):
    """Change one control as a student would (arrow keys on a slider, another option, the other toggle button) and
    return its (state before, state after). A key press the page did not deliver to the control (the focus was
    elsewhere) is tried again; AssertionError if the control never changed: the page, not the explorer, failed."""
    before = control_state(kind, control)
    for _ in range(attempts):
        _nudge(page, kind, control)
        for _ in range(20):  # the widget's view updates its own state at once; 2 s is plenty
            now = control_state(kind, control)
            if now != before:
                return before, now
            page.wait_for_timeout(100)
    raise AssertionError(f"the {kind} control stayed at {before!r} after {attempts} tries to move it")


def kernel_status(page):
    """The status bar's kernel item, such as 'Python 3 (ipykernel) | Busy'."""
    items = [t.strip() for t in page.locator(".jp-StatusBar-TextItem").all_inner_texts()]
    return next((t for t in items if "|" in t), "no kernel status shown")


def wait_until_idle(page, timeout_s=300):
    """Wait until the kernel is idle: a control's message waits behind a running cell, so a redraw would too."""
    page.wait_for_function(KERNEL_IDLE_JS, timeout=timeout_s * 1000, polling=250)


def wait_for_new_image(image, before, timeout_s=120, moved="its control"):
    """The image's pixels once they differ from `before` (PNG bytes of an element screenshot); AssertionError after
    timeout_s, naming what moved and the kernel's state."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        image.page.wait_for_timeout(500)
        now = image.screenshot()
        if now != before:
            return now
    status = kernel_status(image.page)
    raise AssertionError(f"the explorer's figure did not change within {timeout_s} s of moving {moved} (kernel: {status})")
