"""paho's MQTT v5 Properties with shared tables behave as paho's own: same bytes packed, same values
unpacked, the same refusals, and no property leaking from one instance to another."""

from __future__ import annotations

import pytest
from paho.mqtt.exception import MQTTException
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from etl.sources import paho_properties


def _connect_properties() -> Properties:
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    properties.ReceiveMaximum = 20000
    properties.UserProperty = ("县", "长兴")
    properties.UserProperty = ("feed", "sensors")
    return properties


def _publish_with(properties_bytes: bytes) -> Properties:
    properties = Properties(PacketTypes.PUBLISH)
    properties.unpack(properties_bytes)
    return properties


@pytest.fixture
def shared():
    assert paho_properties.install(), "the guard refused this paho's Properties"
    yield
    # etl.sources.mqtt installs them for the whole process; leave them as the rest of the suite expects.
    paho_properties.install()


def test_packed_bytes_and_unpacked_values_are_paho_s_own(shared):
    with paho_properties.stock():
        stock_bytes = _connect_properties().pack()
        published = Properties(PacketTypes.PUBLISH)
        published.MessageExpiryInterval = 60
        published.ContentType = "application/json"
        stock_publish = published.pack()
        stock_values = _publish_with(stock_publish).json()
    assert _connect_properties().pack() == stock_bytes
    assert (
        _publish_with(stock_publish).json()
        == stock_values
        == {
            "MessageExpiryInterval": 60,
            "ContentType": "application/json",
        }
    )


def test_instances_share_tables_but_not_properties(shared):
    first, second = Properties(PacketTypes.PUBLISH), Properties(PacketTypes.PUBLISH)
    first.ContentType = "text/plain"
    assert first.names is second.names and not hasattr(second, "ContentType")
    first.clear()
    assert not hasattr(first, "ContentType") and first.names and first.packetType == PacketTypes.PUBLISH
    first.ContentType = "again"  # a cleared instance still takes properties
    assert first.ContentType == "again"


def test_wrong_names_and_packet_types_are_refused_as_before(shared):
    properties = Properties(PacketTypes.PUBLISH)
    with pytest.raises(MQTTException, match="Property name must be one of"):
        properties.NoSuchProperty = 1
    with pytest.raises(MQTTException, match="does not apply to packet type"):
        properties.SessionExpiryInterval = 5


def test_the_guard_refuses_a_paho_whose_properties_look_different(monkeypatch):
    stock_init = paho_properties._STOCK["__init__"]

    def with_more(self, packet_type):  # a later paho that sets one more attribute
        stock_init(self, packet_type)
        object.__setattr__(self, "cache", {})

    def without_names(self, packet_type):  # or builds its tables elsewhere
        stock_init(self, packet_type)
        object.__delattr__(self, "names")

    assert paho_properties._tables() is not None  # this paho, as installed
    assert paho_properties._tables(with_more) is None
    assert paho_properties._tables(without_names) is None

    before = Properties.__init__
    monkeypatch.setattr(paho_properties, "SHARED", paho_properties._tables(with_more))
    assert paho_properties.install() is False
    assert Properties.__init__ is before
