"""paho-mqtt's MQTT v5 ``Properties`` without rebuilding their constant tables for every packet.

paho (2.x) builds two dictionaries of every property's name, code and type in ``Properties.__init__`` and
walks all of them in ``clear()``; both run for each message received over MQTT v5. Profiled on 60,000
QoS 1 messages, that was more than half of paho's network thread: the thread that bounds how fast one
process ingests. Here every instance shares one copy of the tables (paho never changes them) and
``clear()`` drops only the properties the instance holds. A guard installs nothing unless this paho
builds the tables as expected; ``stock()`` restores paho's own methods (for the benchmark's baseline).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

TABLES = ("types", "names", "properties")
OWN = frozenset(("packetType", *TABLES))  # paho's own attributes; every other one is a property
_STOCK = {"__init__": Properties.__init__, "clear": Properties.clear}


def _tables(init=_STOCK["__init__"]) -> dict | None:
    """The constant tables an instance gets from paho's ``__init__``, or None when that sets anything but
    the packet type and the three tables (the shared version would then miss it, and ``clear()`` drop it)."""
    probe = Properties.__new__(Properties)
    init(probe, PacketTypes.PUBLISH)
    if set(probe.__dict__) != OWN:
        return None
    found = {name: probe.__dict__[name] for name in TABLES}
    return found if all(isinstance(found[name], list | dict) and found[name] for name in TABLES) else None


def _shared_init(self: Properties, packetType: int) -> None:
    """As paho's ``__init__``, with the tables shared (set directly: paho's ``__setattr__`` would too)."""
    self.__dict__["packetType"] = packetType
    self.__dict__.update(SHARED)


def _clear(self: Properties) -> None:
    """As paho's ``clear()``: remove every property the instance holds, keep its own attributes."""
    for name in [name for name in self.__dict__ if name not in OWN]:
        del self.__dict__[name]


SHARED = _tables()


def install() -> bool:
    """Use the shared tables from now on in this process; False (nothing changed) when the guard refused."""
    if SHARED is None:
        return False
    Properties.__init__ = _shared_init
    Properties.clear = _clear
    return True


@contextmanager
def stock() -> Iterator[None]:
    """paho's own methods inside the block, whatever was installed before it."""
    before = {"__init__": Properties.__init__, "clear": Properties.clear}
    Properties.__init__, Properties.clear = _STOCK["__init__"], _STOCK["clear"]
    try:
        yield
    finally:
        Properties.__init__, Properties.clear = before["__init__"], before["clear"]
