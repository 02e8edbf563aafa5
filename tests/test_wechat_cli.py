"""`essaybot wechat` as an operator runs it: a real process serving real HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from bot.channels.wechat import protocol as wx

ROOT = Path(__file__).resolve().parent.parent
KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


def environment(tmp_path: Path, **wechat: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ESSAYBOT_WECHAT_")}
    variables = {f"ESSAYBOT_WECHAT_{k.upper()}": v for k, v in wechat.items()}
    return {**clean, "ESSAYBOT_STATE_PATH": str(tmp_path / "state.db"), **variables}


@pytest.mark.parametrize(
    ("wechat", "message"),
    [
        ({}, "Set ESSAYBOT_WECHAT_TOKEN"),
        ({"token": "t0ken", "aes_key": KEY}, "both ESSAYBOT_WECHAT_AES_KEY and"),
        ({"token": "t0ken", "aes_key": "short", "appid": "wx1"}, "43-character EncodingAESKey"),
    ],
)
def test_unusable_settings_print_one_line_and_fail(hash_index, tmp_path, wechat, message):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "wechat", "--index", str(hash_index)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment(tmp_path, **wechat),
        timeout=120,
    )
    assert result.returncode == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signed(url: str, **extra: str) -> str:
    stamp, nonce = str(int(time.time())), "1234"
    query = {"signature": wx.signature("t0ken", stamp, nonce), "timestamp": stamp, "nonce": nonce}
    return url + "?" + urllib.parse.urlencode({**query, **extra})


def wait_until_listening(process: subprocess.Popen, port: int) -> None:
    """Until the port accepts connections (bounded by the test timeout) or the process dies."""
    while process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(process.communicate()[1])


@pytest.fixture
def webhook(hash_index, tmp_path):
    port = free_port()
    command = ["wechat", "--index", str(hash_index), "--port", str(port), "--path", "wx"]
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", *command],
        cwd=ROOT,
        env=environment(tmp_path, token="t0ken"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wait_until_listening(process, port)
    yield f"http://127.0.0.1:{port}/wx"
    process.terminate()
    process.wait(timeout=60)


def test_the_command_serves_verification_and_answers(webhook):
    with urllib.request.urlopen(signed(webhook, echostr="hello-wechat")) as response:
        assert response.read() == b"hello-wechat"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(webhook + "?signature=0&timestamp=1&nonce=2&echostr=x")
    assert refused.value.code == 403
    message = (
        "<xml><ToUserName>gh_x</ToUserName><FromUserName>o_reader</FromUserName>"
        "<CreateTime>1</CreateTime><MsgType>text</MsgType>"
        "<Content>Good CFOs are very good at numbers</Content><MsgId>1</MsgId></xml>"
    )
    with urllib.request.urlopen(signed(webhook, openid="o_reader"), message.encode()) as response:
        reply = wx.parse_xml(response.read())
    assert reply["ToUserName"] == "o_reader" and reply["Content"].startswith("[1] ")
