"""`siamtrack serve`: the API through aiohttp's test client (targets, pause/resume/restart,
downloads, token, malformed messages), the command line, and the page in a real headless
Chromium driven by Selenium (draw a box with the mouse, read back that it tracks)."""
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("aiohttp", reason="siamtrack serve needs aiohttp (the serve extra)")
from aiohttp import WSMsgType, WSServerHandshakeError  # noqa: E402
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from tracker import load_tracker  # noqa: E402
from tracker.geometry import iou  # noqa: E402
from tracker.serve import Session, SessionConfig  # noqa: E402
from tracker.serve.app import create_app, running  # noqa: E402
from tracker.video.demo import generate_clip  # noqa: E402
from tracker.video.sources import ArraySource, LiveSource  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "a-test-token-0123456789"


@pytest.fixture(scope="module")
def clip():
    return generate_clip(num_frames=60, width=320, height=240, base_size=(48, 40))


@pytest.fixture(scope="module")
def video(clip, tmp_path_factory):
    path = tmp_path_factory.mktemp("serve") / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (clip.frames[0].shape[1], clip.frames[0].shape[0]))
    for frame in clip.frames:
        writer.write(frame)
    writer.release()
    return str(path)


def session(source, **config):
    """A session on ``source`` with the shipped default model (real tracking, ~0.4 s to load)."""
    return Session(source, load_tracker(), SessionConfig(**config))


def run(scenario, *sessions, token=None):
    """``scenario(client)`` against a server for ``sessions``, in a fresh event loop."""
    async def main():
        async with TestClient(TestServer(create_app(sessions, token))) as client:
            await scenario(client)

    asyncio.run(asyncio.wait_for(main(), 120))


async def sources(client):
    response = await client.get("/api/sources")
    assert response.status == 200
    return await response.json()


async def until(client, index, predicate, timeout=30.0):
    """The source's description once ``predicate`` holds for it."""
    deadline = time.monotonic() + timeout
    while True:
        info = (await sources(client))[index]
        if predicate(info):
            return info
        assert time.monotonic() < deadline, info
        await asyncio.sleep(0.02)


async def command(client, index, message, status=200):
    response = await client.post(f"/api/sources/{index}/commands", json=message)
    body = await response.json()
    assert response.status == status, body
    return body


def target_boxes(results, target):
    """{frame: box} of ``target`` in a results.json download."""
    return {f["frame"]: t["box"] for f in results["frames"] for t in f["targets"] if t["id"] == target}


def mean_iou(boxes, truth):
    frames = sorted(boxes)
    return float(np.mean(iou(np.array([boxes[f] for f in frames]), truth[frames])))


# -- the API ---------------------------------------------------------------------------------

def test_a_drawn_target_tracks_the_object_and_downloads_as_track_writes_them(video, clip):
    async def scenario(client):
        info = (await sources(client))[0]
        described = (info["name"], info["live"], info["width"], info["height"], info["state"], info["frame"])
        assert described == ("clip", False, 320, 240, "paused", 0)
        added = await command(client, 0, {"op": "add", "box": clip.boxes[0].tolist()})
        assert (added["done"], added["target"], added["frame"]) == ("add", 0, 0)
        assert (await command(client, 0, {"op": "resume"}))["state"] == "playing"
        await until(client, 0, lambda s: s["state"] == "ended")
        response = await client.get("/api/sources/0/results.json")
        assert response.headers["Content-Disposition"] == 'attachment; filename="clip.json"'
        results = json.loads(await response.text())
        assert results["source"] == video and results["dropped_frames"] == 0
        boxes = target_boxes(results, 0)
        assert sorted(boxes) == list(range(60))  # a file never drops a frame
        assert mean_iou(boxes, clip.boxes) >= 0.7
        text = await (await client.get("/api/sources/0/targets/0.txt")).text()
        lines = [[float(v) for v in line.split(",")] for line in text.splitlines()]
        assert np.allclose(lines, [boxes[f] for f in range(60)], atol=1e-3)
        missing = await client.get("/api/sources/0/targets/5.txt")
        assert missing.status == 404 and "no results for target 5" in (await missing.json())["error"]

    run(scenario, session(video, paused=True))


def test_pause_resume_restart_and_remove(video, clip):
    async def scenario(client):
        await command(client, 0, {"op": "add", "box": clip.boxes[0].tolist()})
        await until(client, 0, lambda s: s["frame"] >= 5)
        assert (await command(client, 0, {"op": "pause"}))["state"] == "paused"
        held = (await sources(client))[0]["frame"]
        await asyncio.sleep(0.3)  # 7 frames' time at 25 fps: none tracked while paused
        assert (await sources(client))[0]["frame"] == held
        assert (await command(client, 0, {"op": "pause"}, 200))["state"] == "paused"
        await command(client, 0, {"op": "resume"})
        await until(client, 0, lambda s: s["frame"] > held + 2)
        second = await command(client, 0, {"op": "add", "box": [10, 10, 40, 30]})
        assert second["target"] == 1
        assert await command(client, 0, {"op": "remove", "target": 1}) == {"done": "remove", "target": 1}
        assert [t["id"] for t in (await sources(client))[0]["targets"]] == [0]
        gone = await command(client, 0, {"op": "remove", "target": 1}, 400)
        assert "no target 1" in gone["error"]
        assert (await command(client, 0, {"op": "restart"}))["state"] == "paused"
        info = (await sources(client))[0]
        assert (info["frame"], info["targets"], info["state"]) == (0, [], "paused")
        assert json.loads(await (await client.get("/api/sources/0/results.json")).text())["frames"] == []

    run(scenario, session(video))


def test_websocket_streams_the_json_lines_of_track_results_and_takes_commands(video, clip):
    async def scenario(client):
        ws = await client.ws_connect("/api/sources/0/results")
        assert await ws.receive_json() == {"state": "paused", "frame": 0, "targets": []}
        await ws.send_json({"op": "add", "box": clip.boxes[0].tolist()})
        await ws.send_json({"op": "resume"})
        lines, replies = [], []
        while True:
            message = await ws.receive_json(timeout=30)
            if "id" in message:
                lines.append(message)
            elif "done" in message:
                replies.append(message["done"])
            elif message.get("state") == "ended":
                break
        assert replies == ["add", "resume"]
        assert all(set(line) == {"frame", "time", "id", "box", "score", "ok"} for line in lines)
        assert [line["frame"] for line in lines] == list(range(60))
        assert lines[1]["time"] == pytest.approx(1 / 25)
        await ws.close()

    run(scenario, session(video, paused=True, speed=0))


def test_malformed_messages_are_answered_and_the_other_targets_go_on(video, clip):
    async def scenario(client):
        await command(client, 0, {"op": "add", "box": clip.boxes[0].tolist()})
        post = "/api/sources/0/commands"
        bad = {
            "not json {": "not JSON",
            "[" * 20000: "not JSON",  # nested deeper than the parser recurses
            '"add"': "a command is a JSON object",
            '{"op": "fly"}': "unknown op",
            '{"op": "add", "box": [1, 2, "three", 4]}': "box must be 4 numbers",
            '{"op": "add", "box": ["10", 20, 30, 40]}': "box must be 4 numbers",
            '{"op": "add", "box": [true, 20, 30, 40]}': "box must be 4 numbers",
            '{"op": "add", "box": [1, 2, 3]}': "box must be 4 numbers",
            '{"op": "add", "box": [1000, 1000, 40, 40]}': "outside the 320x240 frame",
            '{"op": "add", "box": [10, 10, -5, 40]}': "positive width and height",
            '{"op": "add", "box": [NaN, 10, 5, 40]}': "NaN or infinite",
            '{"op": "remove", "target": "0"}': "target must be",
            '{"op": "remove", "target": 99}': "no target 99",
        }
        for body, message in bad.items():
            response = await client.post(post, data=body)
            assert response.status == 400 and message in (await response.json())["error"], body
        huge = await client.post(post, data=b'{"op": "add", "box": [' + b"1" * 1_000_000 + b"]}")
        assert huge.status == 413 and "Maximum request body size" in (await huge.json())["error"]
        for path in ("/api/sources/7/picture", "/api/sources/x/commands", "/api/sources/-1/results.json", "/api/sources/9/results"):
            response = await (client.get(path) if not path.endswith("commands") else client.post(path, json={"op": "pause"}))
            assert response.status == 404 and "no source" in (await response.json())["error"], path
        bad_after = await client.get("/api/sources/0/picture?after=soon")
        assert bad_after.status == 400

        ws = await client.ws_connect("/api/sources/0/results")
        await ws.receive_json()  # the state
        for body, message in list(bad.items())[:6]:
            await ws.send_str(body)
            while "id" in (reply := await ws.receive_json(timeout=10)):
                pass
            assert message in reply["error"], body
        await ws.send_bytes(b"\x00\x01")
        while "id" in (reply := await ws.receive_json(timeout=10)):
            pass
        assert "JSON text" in reply["error"]
        await ws.send_str("x" * 1_000_000)  # over the 64 KB cap: the socket is closed with 1009, message too big
        while (message := await ws.receive(timeout=10)).type == WSMsgType.TEXT:
            pass
        assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED) and ws.close_code == 1009

        await command(client, 0, {"op": "resume"})
        await until(client, 0, lambda s: s["state"] == "ended")
        results = json.loads(await (await client.get("/api/sources/0/results.json")).text())
        boxes = target_boxes(results, 0)
        assert sorted(boxes) == list(range(60)) and mean_iou(boxes, clip.boxes) >= 0.7

    run(scenario, session(video, paused=True, speed=0))


def test_token_is_needed_on_every_request_and_socket(video):
    async def scenario(client):
        for path in ("/", "/static/app.js", "/api/sources", "/api/sources/0/picture", "/api/sources/0/results.json"):
            refused = await client.get(path)
            assert refused.status == 401 and "token" in (await refused.json())["error"], path
        assert (await client.get("/?token=wrong-token-0123456789")).status == 401
        assert (await client.get(f"/?token={TOKEN}")).status == 200
        assert (await client.get("/static/app.js", params={"token": TOKEN})).status == 200
        bearer = await client.get("/api/sources", headers={"Authorization": f"Bearer {TOKEN}"})
        assert bearer.status == 200 and (await bearer.json())[0]["name"] == "clip"
        picture = await client.get("/api/sources/0/picture", params={"token": TOKEN})
        assert picture.status == 200 and picture.content_type == "image/jpeg"
        assert cv2.imdecode(np.frombuffer(await picture.read(), np.uint8), cv2.IMREAD_COLOR).shape == (240, 320, 3)
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect("/api/sources/0/results")
        assert refused.value.status == 401
        ws = await client.ws_connect(f"/api/sources/0/results?token={TOKEN}")
        assert (await ws.receive_json())["state"] == "paused"
        await ws.close()

    run(scenario, session(video, paused=True), token=TOKEN)


def test_without_a_token_only_loopback_hosts_and_same_origin_requests_get_in(video):
    async def scenario(client):
        assert (await client.get("/api/sources")).status == 200
        rebound = await client.get("/api/sources", headers={"Host": "evil.example:8080"})
        assert rebound.status == 403 and "answers requests for" in (await rebound.json())["error"]
        other_site = await client.post("/api/sources/0/commands", json={"op": "resume"}, headers={"Origin": "http://evil.example"})
        assert other_site.status == 403 and (await sources(client))[0]["state"] == "paused"
        origin = str(client.make_url("")).rstrip("/")
        same = await client.post("/api/sources/0/commands", json={"op": "resume"}, headers={"Origin": origin})
        assert same.status == 200

    run(scenario, session(video, paused=True))


def test_pictures_wait_for_a_newer_frame_and_slow_viewers_take_fewer(video, clip):
    async def scenario(client):
        first = await client.get("/api/sources/0/picture")
        version = int(first.headers["X-Version"])
        tic = time.monotonic()
        pending = asyncio.ensure_future(client.get("/api/sources/0/picture", params={"after": version}))
        await asyncio.sleep(0.2)
        assert not pending.done()  # paused: nothing newer yet
        await command(client, 0, {"op": "add", "box": clip.boxes[0].tolist()})  # a new target is a newer picture
        newer = await pending
        assert int(newer.headers["X-Version"]) > version and newer.headers["X-Frame"] == "0" and time.monotonic() - tic < 5
        await command(client, 0, {"op": "resume"})
        slow = 0
        while (await sources(client))[0]["state"] != "ended":
            await client.get("/api/sources/0/picture")
            slow += 1
            await asyncio.sleep(0.25)  # a viewer far slower than the 25 fps video
        assert slow < 20
        results = json.loads(await (await client.get("/api/sources/0/results.json")).text())
        assert sorted(target_boxes(results, 0)) == list(range(60))  # the tracker took every frame all the same

    run(scenario, session(video, paused=True))


def test_sources_run_apart_and_live_ones_refuse_pause(video, clip):
    frames = iter(clip.frames[:20])

    def camera():
        time.sleep(0.01)
        return next(frames, None)

    async def scenario(client):
        live = (await sources(client))[1]
        assert live["live"] and live["state"] == "playing"
        refused = await command(client, 1, {"op": "pause"}, 400)
        assert "live: only file sources pause" in refused["error"]
        await until(client, 1, lambda s: s["state"] == "ended")
        paused = (await sources(client))[0]
        assert (paused["state"], paused["frame"]) == ("paused", 0)

    run(scenario, session(video, paused=True), session(LiveSource(camera, "camera", fps=100)))


def test_tracking_runs_without_any_viewer(video, clip):
    tracked = session(video, paused=True, speed=0)
    tracked.start()
    try:
        tracked.add(clip.boxes[0]).result(10)
        tracked.resume().result(10)
        deadline = time.monotonic() + 30
        while tracked.latest.state != "ended":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        boxes = {f[0].frame: f[0].box for f in tracked.results()}
        assert sorted(boxes) == list(range(60)) and mean_iou(boxes, clip.boxes) >= 0.7
    finally:
        tracked.close()
    with pytest.raises(Exception, match="closed"):
        tracked.pause().result(1)


def test_a_source_that_breaks_fails_alone_and_says_why(video, clip):
    frames = [f for f in clip.frames[:10]] + [cv2.resize(f, (160, 120)) for f in clip.frames[10:20]]

    async def scenario(client):
        await command(client, 1, {"op": "add", "box": clip.boxes[0].tolist()})
        await command(client, 1, {"op": "resume"})
        broken = await until(client, 1, lambda s: s["state"] == "failed")
        assert broken["frame"] == 9 and "frame size changed mid-stream" in broken["error"]
        assert "has failed: restart it" in (await command(client, 1, {"op": "resume"}, 400))["error"]
        await command(client, 0, {"op": "add", "box": clip.boxes[0].tolist()})  # the other source goes on
        await command(client, 0, {"op": "resume"})
        await until(client, 0, lambda s: s["state"] == "ended")
        assert (await client.get("/api/sources/1/picture")).status == 200

    run(scenario, session(video, paused=True, speed=0), session(ArraySource(frames, "changing"), paused=True, speed=0))


def test_a_socket_that_falls_behind_skips_lines_and_is_told(monkeypatch):
    from tracker.serve import app
    from tracker.video.pipeline import TargetResult

    monkeypatch.setattr(app, "FEED_LINES", 5)
    image = np.zeros((4, 4, 3), np.uint8)

    async def scenario():
        feed = app.Feed()
        for frame in range(4):
            lines = tuple(TargetResult(frame, None, i, (1.0, 1.0, 2.0, 2.0), 0.9, True) for i in range(2))
            feed.push(app.Update(frame + 1, frame, image, lines, lines, "playing", None))
        sent = [json.loads(m) for m in await feed.take()]
        assert sent[0] == {"skipped": 4} and sent[1] == {"state": "playing", "frame": 0, "targets": [0, 1]}
        assert [(m["frame"], m["id"]) for m in sent[2:]] == [(0, 0), (0, 1), (1, 0), (1, 1)]
        feed.push(app.Update(9, 4, image, (), (), "ended", None))
        assert [json.loads(m) for m in await feed.take()] == [{"state": "ended", "frame": 4, "targets": []}]

    asyncio.run(scenario())


# -- the command line ------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["missing.mp4"], "source not found: missing.mp4"),
    (["{video}", "--port", "http"], "'http' is not a port"),
    (["{video}", "--port", "70000"], "'70000' is not a port"),
    (["{video}", "--token", "short"], "a token is 16 to 200 characters"),
    (["{video}", "--speed", "-1"], "must be >= 0"),
    (["{video}", "--model", "nope"], "nope"),
])
def test_bad_input_is_one_line_and_exit_code_2(video, args, message, capsys):
    from tracker.cli import main

    code = main(["serve"] + [a.format(video=video) for a in args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and message in err[0], err


def test_a_non_loopback_bind_generates_a_token_and_refuses_requests_without_it(video):
    process = subprocess.Popen([sys.executable, "-m", "tracker", "serve", video, "--host", "0.0.0.0", "--port", "0", "--paused"],
                               env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        serving, shown = process.stdout.readline(), process.stdout.readline()
        assert serving.startswith("serving 0: clip on http://0.0.0.0:"), (serving, process.stderr.read() if process.poll() else "")
        secret = shown.split(": ")[-1].strip()
        assert shown.startswith("token (generated, shown only now)") and len(secret) >= 24 and f"?token={secret}" in serving
        port = serving.split("http://0.0.0.0:")[1].split("/")[0]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/sources", timeout=10)
        assert refused.value.code == 401
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/sources?token={secret}", timeout=10) as answer:
            assert json.loads(answer.read())[0]["state"] == "paused"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0


# -- a real browser --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium from the system's packages (Debian: chromium, chromium-driver) under Selenium."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver_path = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
    if binary is None or driver_path is None:
        pytest.skip("headless Chromium or its driver is not installed (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1000,800",
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def wait_for(driver, condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not (value := condition(driver)):
        assert time.monotonic() < deadline, driver.find_element("tag name", "body").text
        time.sleep(0.05)
    return value


def panel(driver, attribute):
    """A data- attribute of the page's first source panel (None before the page has built it)."""
    found = driver.find_elements("css selector", "section.source")
    return found[0].get_attribute(f"data-{attribute}") if found else None


def test_in_a_browser_a_box_drawn_with_the_mouse_follows_the_object_for_two_viewers(browser, video, clip):
    from selenium.webdriver.common.action_chains import ActionChains

    with running(create_app([session(video, paused=True, speed=0.5)])) as url:
        browser.get(url + "/")
        wait_for(browser, lambda d: int(panel(d, "pictures") or 0) >= 1)
        first = browser.current_window_handle
        browser.switch_to.new_window("window")
        browser.get(url + "/")
        wait_for(browser, lambda d: int(panel(d, "pictures") or 0) >= 1)
        second = browser.current_window_handle
        browser.switch_to.window(first)

        canvas = browser.find_element("css selector", "canvas")
        scale = canvas.rect["width"] / 320
        x, y, w, h = clip.boxes[0]  # offsets from the canvas's centre, in CSS pixels
        ActionChains(browser).move_to_element_with_offset(canvas, round((x - 160) * scale), round((y - 120) * scale)) \
            .click_and_hold().move_by_offset(round(w * scale / 2), round(h * scale / 2)) \
            .move_by_offset(round(w * scale / 2), round(h * scale / 2)).release().perform()
        wait_for(browser, lambda d: panel(d, "targets") == "0")
        assert "target #0 added on frame 0" in browser.find_element("id", "message").text

        browser.switch_to.window(second)  # the other viewer sees the target, and resumes the video
        wait_for(browser, lambda d: panel(d, "targets") == "0")
        seen = int(panel(browser, "pictures"))
        browser.find_element("xpath", "//button[text()='Resume']").click()
        wait_for(browser, lambda d: panel(d, "state") == "ended")
        assert int(panel(browser, "pictures")) >= seen + 10 and panel(browser, "frame") == "59"
        browser.switch_to.window(first)
        wait_for(browser, lambda d: panel(d, "state") == "ended")
        assert int(panel(browser, "pictures")) >= 10

        link = browser.find_element("css selector", "a[download$='.json']").get_attribute("href")
        with urllib.request.urlopen(link, timeout=10) as answer:
            boxes = target_boxes(json.loads(answer.read()), 0)
        assert sorted(boxes) == list(range(60))
        assert mean_iou(boxes, clip.boxes) >= 0.7
        drawn = np.array(boxes[0])
        assert np.abs(drawn - clip.boxes[0]).max() <= 2 * max(1.0, 1 / scale)  # the box as drawn, within mouse rounding
        browser.switch_to.window(second)
        browser.close()
        browser.switch_to.window(first)


def test_in_a_browser_the_token_is_refused_then_accepted_and_a_malformed_message_answered(browser, video):
    with running(create_app([session(video, paused=True)], TOKEN)) as url:
        browser.get(url + "/")
        assert "missing or wrong token" in browser.find_element("tag name", "body").text
        browser.get(f"{url}/?token={TOKEN}")
        wait_for(browser, lambda d: int(panel(d, "pictures") or 0) >= 1)
        assert panel(browser, "state") == "paused"
        reply = browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const url = new URL('api/sources/0/results?token=' + arguments[0], location.href);
            url.protocol = 'ws:';
            const socket = new WebSocket(url);
            socket.onopen = () => socket.send('{"op": "add", "box": [1, 2, "three", 4]}');
            socket.onmessage = (event) => { const m = JSON.parse(event.data); if ('error' in m) { socket.close(); done(m.error); } };
            socket.onerror = () => done('socket failed');
        """, TOKEN)
        assert "box must be 4 numbers" in reply
        answer = browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch('api/sources/0/commands?token=' + arguments[0], {method: 'POST', body: 'not json'})
                .then(async (r) => done([r.status, (await r.json()).error]));
        """, TOKEN)
        assert answer[0] == 400 and "not JSON" in answer[1]
