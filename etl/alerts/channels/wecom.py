"""WeCom group robot (企业微信群机器人): a markdown message to its webhook (the key is in the URL; WeCom robots have
no signing secret), or a text message when mobiles are to be mentioned."""

from __future__ import annotations

from etl.alerts.channels import required, text_list
from etl.alerts.channels.http import new_session, post_json, robot_answer

TYPE = "wecom"
KEYS = ("url", "mentioned_mobiles")
MARKDOWN_LIMIT = 4096  # bytes WeCom accepts in a markdown message


def build(entry: dict, where: str):
    """A sender to the robot's webhook (``url`` with its key)."""
    url, mobiles = required(entry, "url", where), text_list(entry, "mentioned_mobiles", where)
    session = new_session()

    def send(message) -> None:
        if mobiles:  # only text messages mention people by mobile number
            payload = {"msgtype": "text", "text": {"content": message.text(), "mentioned_mobile_list": list(mobiles)}}
        else:
            content = message.markdown().encode()[:MARKDOWN_LIMIT].decode(errors="ignore")
            payload = {"msgtype": "markdown", "markdown": {"content": content}}
        robot_answer(post_json(session, url, payload))

    return send
