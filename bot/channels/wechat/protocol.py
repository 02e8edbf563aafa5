"""The WeChat Official Account protocol, pure: signatures, message XML in and out, safe-mode
AES, and splitting replies under WeChat's byte limit. No I/O, no clock, no randomness of its own
except the 16 random bytes safe mode asks for.

Protocol as documented by WeChat (mp.weixin.qq.com, 消息加解密说明) and implemented by wechatpy:
signature = sha1 of the sorted, concatenated [token, timestamp, nonce]; in safe mode
msg_signature adds the Encrypt field to that list; Encrypt = base64 of AES-256-CBC (key =
base64 of EncodingAESKey + "=", iv = key[:16], PKCS#7 padding to 32 bytes) over
16 random bytes + 4-byte big-endian length + XML + AppID.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

from Crypto.Cipher import AES
from Crypto.Util.Padding import pad, unpad
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot import paging
from bot.config import WeChatConfigError, check_wechat
from bot.paging import SEPARATOR
from index.errors import EssayBotError
from index.lang import SENTENCE_TERMINATORS

SUCCESS = "success"  # the reply that tells WeChat "received, nothing to show"
REPLY_LIMIT_BYTES = 2000  # WeChat cuts text replies at about 2048 bytes of UTF-8: keep a margin
TEXT, EVENT = "text", "event"
NON_TEXT_TYPES = frozenset({"image", "voice", "video", "shortvideo", "location", "link", "file"})
AES_BLOCK = 32  # WeChat pads to 32 bytes, not to AES's own 16
_SENTENCE_ENDS = frozenset(SENTENCE_TERMINATORS + "\n")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class WeChatRequestError(EssayBotError):
    """A webhook request that cannot be used; the server logs it and answers `success`."""


class WeChatSignatureError(WeChatRequestError):
    """A request whose signature does not match the token; the server answers 403."""


class WeChatReplayError(WeChatSignatureError):
    """A signed request that is stale or replayed; refused like a bad signature (403)."""


REPLAY_WINDOW = 300  # seconds a signed query string is good for, either side of now


def check_fresh(timestamp: str, now: float, window: float = REPLAY_WINDOW) -> None:
    """WeChatReplayError unless `timestamp` (seconds) is within `window` of `now`."""
    try:
        stamp = int(timestamp)
    except ValueError:
        raise WeChatReplayError("the timestamp is not a number") from None
    if abs(now - stamp) > window:
        raise WeChatReplayError(f"the timestamp is more than {window:.0f} s from now")


# ---------- signatures ----------


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def check_signature(given: str, *parts: str) -> None:
    """WeChatSignatureError unless `given` is the signature of `parts` (constant-time compare)."""
    if not hmac.compare_digest(signature(*parts).encode(), given.encode("utf-8", "replace")):
        raise WeChatSignatureError("signature does not match ESSAYBOT_WECHAT_TOKEN")


# ---------- messages in ----------


@dataclass(frozen=True)
class Message:
    to_user: str  # the Official Account
    from_user: str  # the reader's OpenID
    msg_type: str
    content: str = ""
    msg_id: str = ""
    event: str = ""


def parse_xml(body: bytes) -> dict[str, str]:
    """The <xml> element's children as {tag: text}; no DTD, so no entity expansion at all."""
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise WeChatRequestError(f"malformed or unsafe XML: {exc}") from exc
    except (ValueError, LookupError) as exc:  # an encoding expat cannot read, e.g. GBK
        raise WeChatRequestError(f"XML in an unsupported encoding: {exc}") from exc
    if root.tag != "xml":
        raise WeChatRequestError(f"XML root is <{root.tag[:20]}>, not <xml>")
    return {child.tag: child.text or "" for child in root}


def _require(fields: dict[str, str], names: tuple[str, ...]) -> None:
    missing = [name for name in names if not fields.get(name)]
    if missing:
        raise WeChatRequestError(f"message without {', '.join(missing)}")


def parse_message(fields: dict[str, str]) -> Message:
    """A Message from parsed XML fields; WeChatRequestError for missing fields or unknown types."""
    _require(fields, ("ToUserName", "FromUserName", "MsgType"))
    kind = fields["MsgType"]
    if kind == TEXT:
        _require(fields, ("MsgId",))
    elif kind not in NON_TEXT_TYPES | {EVENT}:
        raise WeChatRequestError(f"unknown MsgType {kind[:20]!r}")
    return Message(
        fields["ToUserName"],
        fields["FromUserName"],
        kind,
        fields.get("Content", ""),
        fields.get("MsgId", ""),
        fields.get("Event", ""),
    )


# ---------- replies out ----------


def xml_safe(text: str) -> str:
    """The text without the control characters XML 1.0 cannot carry."""
    return _XML_INVALID.sub("", text)


def build_xml(fields: dict[str, str]) -> str:
    root = Element("xml")
    for tag, value in fields.items():
        SubElement(root, tag).text = xml_safe(value)
    return tostring(root, encoding="unicode")


def text_reply(message: Message, content: str, created: int) -> str:
    """The passive reply to `message`: a text message from the account back to the reader."""
    return build_xml(
        {
            "ToUserName": message.from_user,
            "FromUserName": message.to_user,
            "CreateTime": str(created),
            "MsgType": TEXT,
            "Content": content,
        }
    )


# ---------- safe mode ----------


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key behind the console's 43-character EncodingAESKey."""
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        key = b""
    if len(encoding_aes_key) != 43 or len(key) != 32:
        raise WeChatConfigError(
            "ESSAYBOT_WECHAT_AES_KEY must be the 43-character EncodingAESKey from the Official "
            "Account console (设置与开发 → 基本配置 → 服务器配置)"
        )
    return key


class SafeMode:
    """Encrypts and decrypts message bodies for one Official Account (AppID + EncodingAESKey)."""

    def __init__(self, encoding_aes_key: str, appid: str) -> None:
        self.key = aes_key(encoding_aes_key)
        self.appid = appid.encode("utf-8")

    def _cipher(self) -> Any:
        return AES.new(self.key, AES.MODE_CBC, iv=self.key[:16])

    def encrypt(self, xml: str, random16: bytes | None = None) -> str:
        body = xml.encode("utf-8")
        plain = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body + self.appid
        return base64.b64encode(self._cipher().encrypt(pad(plain, AES_BLOCK))).decode("ascii")

    def decrypt(self, encrypted: str) -> bytes:
        """The XML inside an Encrypt field; WeChatRequestError if it is not for this account."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
            plain = unpad(self._cipher().decrypt(raw), AES_BLOCK)
        except (ValueError, binascii.Error) as exc:
            raise WeChatRequestError("Encrypt field cannot be decrypted with this key") from exc
        return self._unwrap(plain)

    def _unwrap(self, plain: bytes) -> bytes:
        """16 random bytes, the XML's length, the XML, the AppID -> the XML."""
        # A body too short to hold a length gets one that fails the check below.
        (length,) = struct.unpack(">I", plain[16:20]) if len(plain) >= 20 else (len(plain),)
        if 20 + length > len(plain) or plain[20 + length :] != self.appid:
            raise WeChatRequestError("encrypted message is not for ESSAYBOT_WECHAT_APPID")
        return plain[20 : 20 + length]


def credentials(
    token: str | None, encoding_aes_key: str | None, appid: str | None
) -> tuple[str, SafeMode | None]:
    """The token (checked by bot.config) and, when configured, safe mode."""
    token = check_wechat(token, encoding_aes_key, appid)
    return token, SafeMode(encoding_aes_key, appid) if encoding_aes_key and appid else None


def decrypt_request(
    fields: dict[str, str],
    safe: SafeMode,
    token: str,
    msg_signature: str,
    timestamp: str,
    nonce: str,
) -> dict[str, str]:
    """The fields of the message inside a safe-mode envelope, its msg_signature checked first."""
    encrypted = fields.get("Encrypt", "")
    if not encrypted:
        raise WeChatRequestError("encrypted message without Encrypt")
    check_signature(msg_signature, token, timestamp, nonce, encrypted)
    return parse_xml(safe.decrypt(encrypted))


def encrypted_reply(safe: SafeMode, token: str, xml: str, timestamp: str, nonce: str) -> str:
    """A reply wrapped as safe mode wants it: Encrypt, MsgSignature, TimeStamp, Nonce."""
    encrypted = safe.encrypt(xml)
    return build_xml(
        {
            "Encrypt": encrypted,
            "MsgSignature": signature(token, timestamp, nonce, encrypted),
            "TimeStamp": timestamp,
            "Nonce": nonce,
        }
    )


# ---------- splitting long replies ----------


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _fitting(text: str, budget: int) -> int:
    """How many leading characters of `text` fit in `budget` bytes of UTF-8."""
    used = 0
    for i, char in enumerate(text):
        used += utf8_len(char)
        if used > budget:
            return i
    return len(text)


def _cut(text: str, n: int) -> int:
    """Where to cut inside text[:n]: after its last sentence end, else its last space, else n."""
    for enders in (_SENTENCE_ENDS, frozenset(" \t")):
        at = next((i for i in range(n, 0, -1) if text[i - 1] in enders), 0)
        if at:
            return at
    return n


def split_text(text: str, budget: int) -> list[str]:
    """Pieces of at most `budget` bytes that join back to `text`, cut between sentences where
    possible and never inside a character."""
    if budget < 4:
        raise ValueError("a piece must have room for one character (4 bytes)")
    pieces = []
    while utf8_len(text) > budget:
        at = _cut(text, _fitting(text, budget))
        pieces.append(text[:at])
        text = text[at:]
    return [*pieces, text]


def pack(blocks: list[str], budget: int) -> list[str]:
    """Blocks joined into pages of at most `budget` bytes, broken between blocks; a block too
    long for a page on its own is split (split_text)."""
    return paging.pack((p for block in blocks for p in split_text(block, budget)), budget, utf8_len)


def paginate(
    blocks: list[str], hint: Callable[[int, int], str], limit: int = REPLY_LIMIT_BYTES
) -> list[str]:
    """Pages of at most `limit` bytes; every page but the last ends with hint(n, total)."""
    pages = pack(blocks, limit - utf8_len(SEPARATOR + hint(999, 999)))
    return list(_hinted(pages, hint))


def _hinted(pages: list[str], hint: Callable[[int, int], str]) -> Iterator[str]:
    for n, page in enumerate(pages, 1):
        yield page if n == len(pages) else page + SEPARATOR + hint(n, len(pages))
