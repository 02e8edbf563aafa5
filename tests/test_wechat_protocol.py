"""The pure WeChat protocol: signatures, XML, safe-mode AES, splitting under the byte limit."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.wechat import protocol as wx

# Known-answer vectors published with wechatpy's tests (WeChat's own sample values): token,
# EncodingAESKey and AppID, a request envelope with its msg_signature, and an encrypted reply
# made with the random prefix "1234567890123456".
TOKEN = "123456"
KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
APPID = "wx49f0ab532d5d035a"
STAMP, NONCE = "1411525903", "461056294"
ENCRYPTED = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTy"
    "eDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYy"
    "olBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWO"
    "MZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7ml"
    "sl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
)
MSG_SIGNATURE = "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
REPLY = (
    "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
    "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n"
    "<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n"
    "<CreateTime>1411525903</CreateTime>\n</xml>"
)
REPLY_ENCRYPTED_START = "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk"
REPLY_SIGNATURE = "407518b7649e86ef23978113f92d27afa9296533"


def test_signature_is_sha1_of_the_sorted_parts():
    assert wx.signature(TOKEN, STAMP, NONCE, ENCRYPTED) == MSG_SIGNATURE
    assert wx.signature(NONCE, ENCRYPTED, TOKEN, STAMP) == MSG_SIGNATURE
    wx.check_signature(MSG_SIGNATURE, TOKEN, STAMP, NONCE, ENCRYPTED)


@pytest.mark.parametrize("given", ["", "0" * 40, MSG_SIGNATURE.upper(), "签名"])
def test_wrong_signature_is_refused(given):
    with pytest.raises(wx.WeChatSignatureError):
        wx.check_signature(given, TOKEN, STAMP, NONCE, ENCRYPTED)


def test_decrypt_known_request():
    fields = wx.decrypt_request(
        {"ToUserName": APPID, "Encrypt": ENCRYPTED},
        wx.SafeMode(KEY, APPID),
        TOKEN,
        MSG_SIGNATURE,
        STAMP,
        NONCE,
    )
    message = wx.parse_message(fields)
    assert (message.from_user, message.content, message.msg_id) == (
        "messense",
        "test",
        "4363689963896700987",
    )


def test_encrypt_known_reply():
    encrypted = wx.SafeMode(KEY, APPID).encrypt(REPLY, b"1234567890123456")
    assert encrypted.startswith(REPLY_ENCRYPTED_START)
    assert wx.signature(TOKEN, STAMP, NONCE, encrypted) == REPLY_SIGNATURE


def test_encrypted_reply_round_trip():
    safe = wx.SafeMode(KEY, APPID)
    envelope = wx.parse_xml(
        wx.encrypted_reply(safe, TOKEN, "<xml>你好</xml>", STAMP, NONCE).encode()
    )
    assert envelope["MsgSignature"] == wx.signature(TOKEN, STAMP, NONCE, envelope["Encrypt"])
    assert (envelope["TimeStamp"], envelope["Nonce"]) == (STAMP, NONCE)
    assert safe.decrypt(envelope["Encrypt"]).decode() == "<xml>你好</xml>"


@pytest.mark.parametrize(
    ("safe", "encrypted", "message"),
    [
        (wx.SafeMode(KEY, "wx-another-account"), ENCRYPTED, "not for ESSAYBOT_WECHAT_APPID"),
        (wx.SafeMode(KEY[:-1] + "A", APPID), ENCRYPTED, "cannot be decrypted"),
        (wx.SafeMode(KEY, APPID), "not base64!", "cannot be decrypted"),
        (wx.SafeMode(KEY, APPID), ENCRYPTED[:-24] + "=", "cannot be decrypted"),
        (wx.SafeMode(KEY, APPID), wx.SafeMode(KEY, "").encrypt(""), "not for"),
    ],
    ids=["other-account", "wrong-key", "not-base64", "truncated", "no-appid"],  # stable under xdist
)
def test_undecryptable_envelopes_are_refused(safe, encrypted, message):
    with pytest.raises(wx.WeChatRequestError, match=message):
        safe.decrypt(encrypted)


def test_tampered_envelope_fails_its_signature():
    with pytest.raises(wx.WeChatSignatureError):
        wx.decrypt_request(
            {"Encrypt": ENCRYPTED[:-5] + "AAAA="},
            wx.SafeMode(KEY, APPID),
            TOKEN,
            MSG_SIGNATURE,
            STAMP,
            NONCE,
        )


@pytest.mark.parametrize(
    ("token", "key", "appid", "message"),
    [
        (None, None, None, "Set ESSAYBOT_WECHAT_TOKEN"),
        ("", KEY, APPID, "Set ESSAYBOT_WECHAT_TOKEN"),
        ("t", KEY, None, "both ESSAYBOT_WECHAT_AES_KEY and ESSAYBOT_WECHAT_APPID"),
        ("t", None, APPID, "both ESSAYBOT_WECHAT_AES_KEY and ESSAYBOT_WECHAT_APPID"),
        ("t", KEY[:-1], APPID, "43-character EncodingAESKey"),
        ("t", KEY[:-1] + "!", APPID, "43-character EncodingAESKey"),
    ],
)
def test_unusable_settings_name_the_fix(token, key, appid, message):
    with pytest.raises(wx.WeChatConfigError, match=message):
        wx.credentials(token, key, appid)


def test_credentials_plain_and_safe_mode():
    assert wx.credentials("t", None, None) == ("t", None)
    token, safe = wx.credentials("t", KEY, APPID)
    assert token == "t" and safe is not None and safe.appid == APPID.encode()


BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>'
    b"<xml><Content>&lol2;</Content></xml>"
)
EXTERNAL = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b"<xml><Content>&e;</Content></xml>"
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "malformed"),
        (b"<xml><Content>unclosed</xml>", "malformed"),
        (b"not xml at all", "malformed"),
        (BOMB, "malformed or unsafe"),
        (EXTERNAL, "malformed or unsafe"),
        (b"<!DOCTYPE xml><xml/>", "malformed or unsafe"),
        (b"<html><body/></html>", "not <xml>"),
    ],
)
def test_bad_xml_is_refused(body, message):
    with pytest.raises(wx.WeChatRequestError, match=message):
        wx.parse_xml(body)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"FromUserName": "u", "MsgType": "text", "MsgId": "1"}, "without ToUserName"),
        ({"ToUserName": "a", "FromUserName": "u", "MsgType": "text"}, "without MsgId"),
        ({"ToUserName": "a", "FromUserName": "u"}, "without MsgType"),
        ({"ToUserName": "a", "FromUserName": "u", "MsgType": "hologram"}, "unknown MsgType"),
    ],
)
def test_unusable_messages_are_refused(fields, message):
    with pytest.raises(wx.WeChatRequestError, match=message):
        wx.parse_message(fields)


def test_text_reply_is_addressed_back_to_the_reader():
    incoming = wx.Message("gh_account", "o-reader", "text", "hi", "42")
    reply = ET.fromstring(wx.text_reply(incoming, "a < b & c ]]> d", 1700000000))
    fields = {child.tag: child.text for child in reply}
    assert fields == {
        "ToUserName": "o-reader",
        "FromUserName": "gh_account",
        "CreateTime": "1700000000",
        "MsgType": "text",
        "Content": "a < b & c ]]> d",
    }


@given(st.text())
def test_any_text_survives_the_reply_xml(content):
    incoming = wx.Message("gh", "o", "text", "", "1")
    parsed = wx.parse_xml(wx.text_reply(incoming, content, 1).encode("utf-8"))
    expected = wx.xml_safe(content).replace("\r\n", "\n").replace("\r", "\n")
    assert parsed["Content"] == expected


@given(st.text(min_size=1), st.integers(min_value=4, max_value=300))
def test_split_text_joins_back_and_respects_the_budget(text, budget):
    pieces = wx.split_text(text, budget)
    assert "".join(pieces) == text
    assert all(piece and wx.utf8_len(piece) <= budget for piece in pieces)


def test_split_text_cuts_after_a_sentence_when_it_can():
    text = "第一句话很短。" + "第二句话" * 30
    assert wx.split_text(text, 60)[0] == "第一句话很短。"
    assert wx.split_text("one two three", 8) == ["one two ", "three"]


blocks = st.lists(st.text(min_size=1, max_size=400), min_size=1, max_size=12)


@given(blocks, st.integers(min_value=40, max_value=900))
def test_pack_breaks_between_blocks_and_respects_the_budget(blocks, budget):
    pages = wx.pack(blocks, budget)
    assert all(wx.utf8_len(page) <= budget for page in pages)
    for block in blocks:
        if wx.utf8_len(block) <= budget:
            assert any(block in page for page in pages)
    assert "".join(pages).replace(wx.SEPARATOR, "") == "".join(blocks).replace(wx.SEPARATOR, "")


@given(blocks)
def test_paginate_hints_every_page_but_the_last(blocks):
    def hint(n, total):
        return f"({n}/{total} 更多)"

    pages = wx.paginate(blocks, hint, limit=300)
    assert all(wx.utf8_len(page) <= 300 for page in pages)
    assert [page.endswith(hint(n, len(pages))) for n, page in enumerate(pages, 1)] == [True] * (
        len(pages) - 1
    ) + [False]


def test_long_chinese_answer_splits_at_quote_boundaries():
    quotes = [f"[{n}] " + "钉钉的教训。" * 60 + "\n——《钉钉 ONE》第 3 段" for n in range(1, 4)]
    pages = wx.paginate(quotes, lambda n, total: f"({n}/{total})")
    assert [page.split(wx.SEPARATOR)[0] for page in pages] == quotes
    assert all(wx.utf8_len(page) <= wx.REPLY_LIMIT_BYTES for page in pages)


def test_a_body_in_an_encoding_expat_cannot_read_is_a_request_error():
    """Before #17 a body declared as GBK logged an ERROR traceback."""
    body = '<?xml version="1.0" encoding="GBK"?><xml><Content>你好</Content></xml>'.encode("gbk")
    with pytest.raises(wx.WeChatRequestError, match="unsupported encoding"):
        wx.parse_xml(body)
