#!/usr/bin/env python3
"""A stand-in for BlueZ's `org.bluez` D-Bus service, for Tutti's Bluetooth integration tests.

    DBUS_SYSTEM_BUS_ADDRESS=unix:path=... /usr/bin/python3 fake_bluez.py CONFIG.json

It connects to the bus in DBUS_SYSTEM_BUS_ADDRESS (normally a private test bus), owns
`org.bluez`, prints `ready` once it does, and runs until SIGTERM/SIGINT or until the bus goes
away. It needs python3-dbus and python3-gi (GLib main loop) and nothing else.

What it models, with BlueZ's object paths, property types and error names:
  * "/"                      org.freedesktop.DBus.ObjectManager (GetManagedObjects,
                             InterfacesAdded, InterfacesRemoved)
  * "/org/bluez"             org.bluez.AgentManager1 (agents are called back with
                             org.bluez.Agent1.RequestConfirmation when pairing)
  * "/org/bluez/hciN"        org.bluez.Adapter1 (power, discovery, discovery filter, RemoveDevice)
  * ".../dev_AA_BB_..."      org.bluez.Device1 (Pair, CancelPairing, Connect, Disconnect,
                             the Disconnected signal); only while the device is known to BlueZ
  * ".../dev_.../sep1/fd0"   org.bluez.MediaTransport1, only while the device is connected
  * every BlueZ object       org.freedesktop.DBus.Properties (Get/GetAll/Set, PropertiesChanged)
                             and Introspectable (including <property> elements)
  * BlueZ's rules that a client has to live with: one Pair/Connect at a time per adapter
    (InProgress otherwise), Pair/Connect take time (op_ms) and reply asynchronously, devices
    that are not known yet only appear through discovery, RSSI is only present for devices
    the current discovery session has seen (it is invalidated when discovery stops, as
    BlueZ does), discovery and agents belong to the bus client that started/registered
    them and end when that client leaves the bus, a per-adapter connection limit.

What it does not model: Bluetooth LE (GATT, advertising, LE addresses; a discovery filter
with Transport "le" finds nothing), profiles (ConnectProfile, ProfileManager1, Media1 endpoint
registration; Connect simply brings up one A2DP sink transport), real codecs and audio
(Codec/Configuration are just values, MediaTransport1.Acquire/TryAcquire/Release do not exist),
pairing methods other than RequestConfirmation (and RequestAuthorization for the phone below),
temporary-device expiry after discovery, adapters appearing/disappearing, persistent storage,
and incoming connections other than a phone's (PhoneConnects).

Test controls, which are not BlueZ, live on "/org/tutti/fake", interface org.tutti.FakeBluez:
  SetInRange(s address, b in_range)  out of range while connected drops the connection
                                     (Disconnected reason org.bluez.Reason.Timeout)
  DropConnection(s address)          the speaker switched off: drops the connection and
                                     stays out of range until SetInRange(address, true)
  SetDelay(s address, q tenths)      sets MediaTransport1.Delay (tenths of a millisecond)
  PhoneConnects(s adapter, s address, s name)
                                     a phone pairs with the box and connects to send it audio
                                     (the one incoming connection modelled): refused unless the
                                     adapter is Discoverable and has the A2DP sink role
                                     ("receive"); then, as BlueZ does for a NoInputNoOutput
                                     agent, the agent is asked RequestAuthorization (pairing)
                                     and AuthorizeService (A2DP sink) and the phone is
                                     connected, or removed with AuthenticationRejected when the
                                     agent says no
  Calls() -> as                      every BlueZ method called so far, in order (see below)
  Reset()                            back to the configured state; keeps registered agents

Calls() entries (reads -- Properties.Get/GetAll, Introspect -- are not logged):
  "Adapter1.StartDiscovery hci0", "Device1.Pair AA:BB:CC:00:00:01",
  "AgentManager1.RegisterAgent /org/tutti/agent NoInputNoOutput",
  "Adapter1.RemoveDevice hci0 AA:BB:CC:00:00:01", "Adapter1.SetDiscoveryFilter hci0 Transport=bredr UUIDs=...",
  "Properties.Set AA:BB:CC:00:00:01 Device1.Trusted true", "ObjectManager.GetManagedObjects /"
  A call refused straight away is followed by "<the call's entry> error=<D-Bus error name>".
  A Pair/Connect that was accepted (the adapter was busy with it) gets a second entry when it
  replies: "Device1.Connect AA:BB:CC:00:00:01 start=12.345678 end=12.496012 result=ok"
  (result is "ok" or the error name; start/end are time.monotonic() seconds), so a test can
  check that the accepted operations on one adapter never overlapped.

Config (JSON), with defaults:
  {"adapters": [{"name": "hci0", "address": "00:1A:7D:DA:71:01", "powered": true,
                 "max_connections": 7, "op_ms": 150,
                 "receive": false (true: the A2DP sink role is registered, so it can take a phone's audio)}],
   "devices": [{"adapter": "hci0" (default: the first adapter), "address": "AA:BB:CC:00:00:01",
                "name": "JBL Flip 5" (default: none, Alias is then the address with '-'),
                "icon": "audio-card", "uuids": ["0000110b-0000-1000-8000-00805f9b34fb"],
                "rssi": -60, "paired": false, "trusted": false, "connected": false,
                "known": <paired>, "in_range": true,
                "behaviour": "ok" | "reject_pairing" | "out_of_range", "delay": <absent>,
                "codec": 0, "transport": true (false: connecting brings up no A2DP transport,
                as when the speaker and the sound server share no codec)}]}
  A device that is not known is only put on the bus when a discovery finds it; a paired or
  connected device is always known.
"""

import json
import os
import signal
import sys
import time
import xml.etree.ElementTree as ElementTree

import dbus
import dbus.bus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

BUS_NAME = "org.bluez"
ADAPTER = "org.bluez.Adapter1"
DEVICE = "org.bluez.Device1"
TRANSPORT = "org.bluez.MediaTransport1"
AGENT_MANAGER = "org.bluez.AgentManager1"
AGENT = "org.bluez.Agent1"
PROPERTIES = "org.freedesktop.DBus.Properties"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
FAKE = "org.tutti.FakeBluez"

A2DP_SINK_UUID = "0000110b-0000-1000-8000-00805f9b34fb"
A2DP_SOURCE_UUID = "0000110a-0000-1000-8000-00805f9b34fb"
BASE_UUID_TAIL = "-0000-1000-8000-00805f9b34fb"
ADAPTER_UUIDS = [
    "00001800-0000-1000-8000-00805f9b34fb",  # Generic Access
    "00001801-0000-1000-8000-00805f9b34fb",  # Generic Attribute
    "0000110a-0000-1000-8000-00805f9b34fb",  # A2DP source
    "0000110c-0000-1000-8000-00805f9b34fb",  # AVRCP target
    "0000110e-0000-1000-8000-00805f9b34fb",  # AVRCP controller
]
ADAPTER_CLASS = 0x6C010C     # computer / laptop, with the usual service bits
DEVICE_CLASS = 0x240414      # audio/video / loudspeaker, rendering + audio service bits
SBC_CONFIGURATION = [0x21, 0x15, 0x02, 0x35]  # 44.1 kHz joint stereo, 16 blocks, 8 subbands, loudness, bitpool 2..53

PASSKEY = 123456
DISCOVERY_DELAY_MS = 100     # from StartDiscovery (or coming into range) to "found"
AGENT_TIMEOUT_S = 30.0
AGENT_CAPABILITIES = {"", "DisplayOnly", "DisplayYesNo", "KeyboardOnly", "NoInputNoOutput", "KeyboardDisplay"}
FILTER_KEYS = {"UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData", "Discoverable", "Pattern"}

REASON_LOCAL = ("org.bluez.Reason.Local", "Connection terminated by local host")
REASON_TIMEOUT = ("org.bluez.Reason.Timeout", "Connection timed out")


# --- errors ---------------------------------------------------------------------------------

MESSAGES = {
    "NotReady": "Resource Not Ready",
    "InProgress": "Operation already in progress",
    "AlreadyExists": "Already Exists",
    "DoesNotExist": "Does Not Exist",
    "AlreadyConnected": "Already Connected",
    "NotConnected": "Not Connected",
    "AuthenticationFailed": "Authentication Failed",
    "AuthenticationRejected": "Authentication Rejected",
    "AuthenticationCanceled": "Authentication Canceled",
    "InvalidArguments": "Invalid arguments in method call",
}


def bluez_error(short_name, message=None):
    """org.bluez.Error.<short_name>, with BlueZ's message for it unless one is given."""
    return dbus.DBusException(message or MESSAGES[short_name], name="org.bluez.Error." + short_name)


def invalid_args(message):
    return dbus.DBusException(message, name="org.freedesktop.DBus.Error.InvalidArgs")


# --- typed values ---------------------------------------------------------------------------

def signature_of(value):
    """The D-Bus signature of a value held as a dbus-python type."""
    for kind, code in ((dbus.Boolean, "b"), (dbus.ObjectPath, "o"), (dbus.String, "s"), (dbus.Byte, "y"),
                       (dbus.Int16, "n"), (dbus.UInt16, "q"), (dbus.Int32, "i"), (dbus.UInt32, "u"),
                       (dbus.Int64, "x"), (dbus.UInt64, "t"), (dbus.Double, "d")):
        if isinstance(value, kind):
            return code
    if isinstance(value, dbus.Array):
        return "a" + (value.signature or "v")
    if isinstance(value, bool):
        return "b"
    if isinstance(value, str):
        return "s"
    return "?"


def typed(code, value):
    """A fresh dbus-python value of the given one-letter signature (drops variant levels)."""
    return {"b": lambda v: dbus.Boolean(bool(v)), "s": lambda v: dbus.String(str(v)),
            "q": lambda v: dbus.UInt16(int(v)), "n": lambda v: dbus.Int16(int(v)),
            "u": lambda v: dbus.UInt32(int(v)), "y": lambda v: dbus.Byte(int(v)),
            "o": lambda v: dbus.ObjectPath(str(v))}[code](value)


def describe(value):
    """How a value is written in the call log."""
    if isinstance(value, (dbus.Boolean, bool)):
        return "true" if value else "false"
    if isinstance(value, (list, dbus.Array)):
        return ",".join(describe(item) for item in value)
    return str(value)


def full_uuid(uuid):
    uuid = str(uuid).lower()
    if len(uuid) == 4:
        return "0000" + uuid + BASE_UUID_TAIL
    if len(uuid) == 8:
        return uuid + BASE_UUID_TAIL
    return uuid


# --- objects with properties ----------------------------------------------------------------

class PropertyObject(dbus.service.Object):
    """A BlueZ object: properties per interface, Get/GetAll/Set, PropertiesChanged, and
    export/unexport that announce it through the ObjectManager on "/"."""

    def __init__(self, fake, path):
        super().__init__()
        self.fake = fake
        self.path = path
        self.props = {}       # interface -> {name: dbus value}
        self.writable = {}    # interface -> {name: one-letter signature}
        self.exported = False

    # What the call log calls this object.
    def subject(self):
        return self.path

    def interfaces(self):
        result = dbus.Dictionary({}, signature="sa{sv}")
        result[INTROSPECTABLE] = dbus.Dictionary({}, signature="sv")
        for interface, values in self.props.items():
            result[interface] = dbus.Dictionary(values, signature="sv")
        result[PROPERTIES] = dbus.Dictionary({}, signature="sv")
        return result

    def export(self):
        if self.exported:
            return
        self.add_to_connection(self.fake.bus, self.path)
        self.exported = True
        self.fake.root.InterfacesAdded(dbus.ObjectPath(self.path), self.interfaces())

    def unexport(self):
        if not self.exported:
            return
        names = dbus.Array(list(self.interfaces().keys()), signature="s")
        self.fake.root.InterfacesRemoved(dbus.ObjectPath(self.path), names)
        self.remove_from_connection()
        self.exported = False

    def prop(self, interface, name, default=None):
        return self.props.get(interface, {}).get(name, default)

    def set_prop(self, interface, name, value):
        """Change a property, announcing it with PropertiesChanged if it really changed."""
        values = self.props.setdefault(interface, {})
        if name in values and values[name] == value and signature_of(values[name]) == signature_of(value):
            return
        values[name] = value
        if self.exported:
            self.PropertiesChanged(interface, dbus.Dictionary({name: value}, signature="sv"),
                                   dbus.Array([], signature="s"))

    def drop_prop(self, interface, name):
        """Remove a property (BlueZ: it no longer 'exists'), announcing it as invalidated."""
        values = self.props.get(interface, {})
        if name not in values:
            return
        del values[name]
        if self.exported:
            self.PropertiesChanged(interface, dbus.Dictionary({}, signature="sv"), dbus.Array([name], signature="s"))

    def write_property(self, interface, name, value):
        """A client's Properties.Set, already checked; subclasses add side effects."""
        self.set_prop(interface, name, value)

    def _values(self, interface):
        if interface not in self.props:
            raise invalid_args(f"No such interface '{interface}'")
        return self.props[interface]

    @dbus.service.method(PROPERTIES, in_signature="ss", out_signature="v")
    def Get(self, interface, name):
        values = self._values(interface)
        if name not in values:
            raise invalid_args(f"No such property '{name}'")
        return values[name]

    @dbus.service.method(PROPERTIES, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return dbus.Dictionary(self._values(interface), signature="sv")

    @dbus.service.method(PROPERTIES, in_signature="ssv", out_signature="")
    def Set(self, interface, name, value):
        entry = self.fake.log(f"Properties.Set {self.subject()} {interface.rsplit('.', 1)[-1]}.{name} {describe(value)}")
        if interface not in self.props:
            raise self.fake.refuse(entry, invalid_args(f"No such interface '{interface}'"))
        if name not in self.props[interface] and name not in self.writable.get(interface, {}):
            raise self.fake.refuse(entry, invalid_args(f"No such property '{name}'"))
        code = self.writable.get(interface, {}).get(name)
        if code is None:
            raise self.fake.refuse(entry, dbus.DBusException(
                f"Property '{name}' is not writable", name="org.freedesktop.DBus.Error.PropertyReadOnly"))
        if signature_of(value) != code:
            raise self.fake.refuse(entry, bluez_error("InvalidArguments"))
        try:
            self.write_property(interface, name, typed(code, value))
        except dbus.DBusException as exception:
            raise self.fake.refuse(entry, exception)

    @dbus.service.signal(PROPERTIES, signature="sa{sv}as")
    def PropertiesChanged(self, interface, changed, invalidated):
        pass

    @dbus.service.method(INTROSPECTABLE, in_signature="", out_signature="s",
                         path_keyword="object_path", connection_keyword="connection")
    def Introspect(self, object_path, connection):
        """dbus-python's introspection, plus the <property> elements it does not know about."""
        xml = dbus.service.Object.Introspect(self, object_path, connection)
        start = xml.index("<node")
        root = ElementTree.fromstring(xml[start:])
        for interface, values in self.props.items():
            node = next((e for e in root.findall("interface") if e.get("name") == interface), None)
            if node is None:
                node = ElementTree.SubElement(root, "interface", name=interface)
            for name, value in values.items():
                access = "readwrite" if name in self.writable.get(interface, {}) else "read"
                ElementTree.SubElement(node, "property", name=name, type=signature_of(value), access=access)
        return xml[:start] + ElementTree.tostring(root, encoding="unicode")


# --- "/" and "/org/bluez" -------------------------------------------------------------------

class Root(dbus.service.Object):
    """"/": the ObjectManager through which clients find adapters, devices and transports."""

    def __init__(self, fake):
        super().__init__(fake.bus, "/")
        self.fake = fake

    @dbus.service.method(OBJECT_MANAGER, in_signature="", out_signature="a{oa{sa{sv}}}")
    def GetManagedObjects(self):
        self.fake.log("ObjectManager.GetManagedObjects /")
        objects = dbus.Dictionary({}, signature="oa{sa{sv}}")
        for obj in self.fake.bluez_objects():
            if obj.exported:
                objects[dbus.ObjectPath(obj.path)] = obj.interfaces()
        return objects

    @dbus.service.signal(OBJECT_MANAGER, signature="oa{sa{sv}}")
    def InterfacesAdded(self, path, interfaces):
        pass

    @dbus.service.signal(OBJECT_MANAGER, signature="oas")
    def InterfacesRemoved(self, path, interfaces):
        pass


class Agent:
    """A registered pairing agent: another bus client's object implementing org.bluez.Agent1."""

    def __init__(self, sender, path, capability, watch):
        self.sender, self.path, self.capability, self.watch = sender, path, capability, watch


class AgentManager(PropertyObject):
    """"/org/bluez": AgentManager1. Agents are kept per bus client, as BlueZ does, and are
    dropped when that client leaves the bus."""

    def __init__(self, fake):
        super().__init__(fake, "/org/bluez")
        self.props = {AGENT_MANAGER: {}}
        self.agents = {}            # sender unique name -> Agent, in registration order
        self.default_sender = None

    @dbus.service.method(AGENT_MANAGER, in_signature="os", out_signature="", sender_keyword="sender")
    def RegisterAgent(self, path, capability, sender=None):
        entry = self.fake.log(f"AgentManager1.RegisterAgent {path} {capability}")
        if capability not in AGENT_CAPABILITIES:
            raise self.fake.refuse(entry, bluez_error("InvalidArguments"))
        if sender in self.agents:
            raise self.fake.refuse(entry, bluez_error("AlreadyExists"))
        watch = self.fake.bus.watch_name_owner(sender, lambda owner, s=sender: owner or self.forget(s))
        self.agents[sender] = Agent(sender, str(path), capability or "KeyboardDisplay", watch)

    @dbus.service.method(AGENT_MANAGER, in_signature="o", out_signature="", sender_keyword="sender")
    def UnregisterAgent(self, path, sender=None):
        entry = self.fake.log(f"AgentManager1.UnregisterAgent {path}")
        agent = self.agents.get(sender)
        if agent is None or agent.path != path:
            raise self.fake.refuse(entry, bluez_error("DoesNotExist"))
        self.forget(sender)

    @dbus.service.method(AGENT_MANAGER, in_signature="o", out_signature="", sender_keyword="sender")
    def RequestDefaultAgent(self, path, sender=None):
        entry = self.fake.log(f"AgentManager1.RequestDefaultAgent {path}")
        agent = self.agents.get(sender)
        if agent is None or agent.path != path:
            raise self.fake.refuse(entry, bluez_error("DoesNotExist"))
        self.default_sender = sender

    def forget(self, sender):
        agent = self.agents.pop(sender, None)
        if agent is not None and agent.watch is not None:
            agent.watch.cancel()
        if self.default_sender == sender:
            self.default_sender = None

    def agent_for(self, sender):
        """The agent a Pair from `sender` uses: its own, else the default one, else the latest."""
        if sender in self.agents:
            return self.agents[sender]
        if self.default_sender in self.agents:
            return self.agents[self.default_sender]
        return list(self.agents.values())[-1] if self.agents else None


# --- adapters -------------------------------------------------------------------------------

class Operation:
    """A Pair or Connect the adapter is busy with, from acceptance until its reply."""

    def __init__(self, kind, device, sender, ok, err):
        self.kind, self.device, self.sender, self.ok, self.err = kind, device, sender, ok, err
        self.start = time.monotonic()
        self.timer = None     # GLib source while "paging"
        self.agent = None     # the Agent while waiting for RequestConfirmation
        self.finished = False


class Adapter(PropertyObject):
    def __init__(self, fake, config):
        self.name = str(config["name"])
        super().__init__(fake, "/org/bluez/" + self.name)
        self.config = config
        self.address = str(config.get("address", "00:1A:7D:DA:71:%02X" % (len(fake.adapters) + 1))).upper()
        self.max_connections = int(config.get("max_connections", 7))
        self.op_ms = int(config.get("op_ms", 150))
        self.writable = {ADAPTER: {"Alias": "s", "Powered": "b", "Discoverable": "b", "Pairable": "b"}}
        self.busy = None                 # Operation
        self.discovery_owner = None      # unique name of the client that started discovery
        self.discovery_watch = None
        self.discovery_filter = {}
        self.timers = set()              # pending "found" timeouts of the discovery session
        self.props = {ADAPTER: self.configured_properties()}

    def subject(self):
        return self.name

    def configured_properties(self):
        name = "fake-" + self.name
        return {
            "Address": dbus.String(self.address),
            "AddressType": dbus.String("public"),
            "Name": dbus.String(name),
            "Alias": dbus.String(name),
            "Class": dbus.UInt32(ADAPTER_CLASS),
            "Powered": dbus.Boolean(bool(self.config.get("powered", True))),
            "Discoverable": dbus.Boolean(False),
            "Pairable": dbus.Boolean(True),
            "Discovering": dbus.Boolean(False),
            "UUIDs": dbus.Array(ADAPTER_UUIDS + ([A2DP_SINK_UUID] if self.config.get("receive") else []), signature="s"),
            # BlueZ's own device ID: vendor 0x1D6B, product 0x0246, version 5.66.
            "Modalias": dbus.String("usb:v1D6Bp0246d0542"),
            "Roles": dbus.Array(["central", "peripheral"], signature="s"),
        }

    @property
    def powered(self):
        return bool(self.prop(ADAPTER, "Powered"))

    @property
    def discovering(self):
        return bool(self.prop(ADAPTER, "Discovering"))

    def devices(self):
        return [device for device in self.fake.devices.values() if device.adapter is self]

    def connected_count(self):
        return sum(1 for device in self.devices() if device.connected)

    # Properties.Set side effects

    def write_property(self, interface, name, value):
        if name == "Powered":
            self.set_powered(bool(value))
        elif name == "Alias" and value == "":
            self.set_prop(ADAPTER, "Alias", self.prop(ADAPTER, "Name"))
        else:
            self.set_prop(interface, name, value)

    def set_powered(self, on):
        if on == self.powered:
            return
        if not on:
            self.abort()
            for device in self.devices():
                if device.connected:
                    device.drop(*REASON_LOCAL)
            self.stop_discovery()
        self.set_prop(ADAPTER, "Powered", dbus.Boolean(on))

    # Pair/Connect serialisation

    def begin(self, operation, first_step):
        self.busy = operation
        operation.timer = GLib.timeout_add(self.op_ms, self._paged, operation, first_step)

    def _paged(self, operation, step):
        operation.timer = None
        if not operation.finished:
            step(operation)
        return False

    def finish(self, operation, exception=None):
        if operation.finished:
            return
        operation.finished = True
        if operation.timer is not None:
            GLib.source_remove(operation.timer)
            operation.timer = None
        if self.busy is operation:
            self.busy = None
        result = "ok" if exception is None else exception.get_dbus_name()
        self.fake.log(f"Device1.{operation.kind} {operation.device.address} "
                      f"start={operation.start:.6f} end={time.monotonic():.6f} result={result}")
        if exception is None:
            operation.ok()
        else:
            operation.err(exception)

    def abort(self, device=None, exception=None):
        """Ends the operation in progress (only if it is for `device`, when given)."""
        operation = self.busy
        if operation is None or (device is not None and operation.device is not device):
            return
        if operation.agent is not None:
            self.fake.bus.call_async(operation.agent.sender, operation.agent.path, AGENT, "Cancel", "", (),
                                     reply_handler=lambda *args: None, error_handler=lambda error: None)
        if exception is None:
            exception = (bluez_error("AuthenticationCanceled") if operation.kind == "Pair"
                         else bluez_error("Failed", "br-connection-canceled"))
        self.finish(operation, exception)

    # Discovery

    def matches_filter(self, device):
        wanted = self.discovery_filter
        if str(wanted.get("Transport", "auto")) == "le":
            return False
        uuids = [full_uuid(u) for u in wanted.get("UUIDs", [])]
        if uuids and not set(uuids) & {full_uuid(u) for u in device.uuids}:
            return False
        if "RSSI" in wanted and device.rssi < int(wanted["RSSI"]):
            return False
        return True

    def find_later(self, device=None):
        """Within this discovery session, report `device` (or every device) as found shortly."""
        def found():
            self.timers.discard(source)
            if self.discovering:
                for candidate in ([device] if device else self.devices()):
                    if candidate.in_range and self.matches_filter(candidate):
                        candidate.found()
            return False
        source = GLib.timeout_add(DISCOVERY_DELAY_MS, found)
        self.timers.add(source)

    def stop_discovery(self):
        for source in self.timers:
            GLib.source_remove(source)
        self.timers.clear()
        if self.discovery_watch is not None:
            self.discovery_watch.cancel()
        self.discovery_watch = None
        self.discovery_owner = None
        if self.discovering:
            self.set_prop(ADAPTER, "Discovering", dbus.Boolean(False))
        for device in self.devices():
            device.drop_prop(DEVICE, "RSSI")

    @dbus.service.method(ADAPTER, in_signature="", out_signature="", sender_keyword="sender")
    def StartDiscovery(self, sender=None):
        entry = self.fake.log(f"Adapter1.StartDiscovery {self.name}")
        if not self.powered:
            raise self.fake.refuse(entry, bluez_error("NotReady"))
        if self.discovering:
            raise self.fake.refuse(entry, bluez_error("InProgress"))
        self.discovery_owner = sender
        self.discovery_watch = self.fake.bus.watch_name_owner(
            sender, lambda owner, s=sender: owner or (self.discovery_owner == s and self.stop_discovery()))
        self.set_prop(ADAPTER, "Discovering", dbus.Boolean(True))
        self.find_later()

    @dbus.service.method(ADAPTER, in_signature="", out_signature="", sender_keyword="sender")
    def StopDiscovery(self, sender=None):
        entry = self.fake.log(f"Adapter1.StopDiscovery {self.name}")
        if not self.discovering or sender != self.discovery_owner:
            raise self.fake.refuse(entry, bluez_error("Failed", "No discovery started"))
        self.stop_discovery()

    @dbus.service.method(ADAPTER, in_signature="a{sv}", out_signature="")
    def SetDiscoveryFilter(self, properties):
        summary = " ".join(f"{key}={describe(properties[key])}" for key in sorted(properties))
        entry = self.fake.log(f"Adapter1.SetDiscoveryFilter {self.name}{' ' + summary if summary else ''}")
        wanted = {str(key): value for key, value in properties.items()}
        valid = (set(wanted) <= FILTER_KEYS
                 and not ("RSSI" in wanted and "Pathloss" in wanted)
                 and str(wanted.get("Transport", "auto")) in ("auto", "bredr", "le")
                 and all(isinstance(u, str) for u in wanted.get("UUIDs", [])))
        if not valid:
            raise self.fake.refuse(entry, bluez_error("InvalidArguments"))
        self.discovery_filter = wanted

    @dbus.service.method(ADAPTER, in_signature="", out_signature="as")
    def GetDiscoveryFilters(self):
        self.fake.log(f"Adapter1.GetDiscoveryFilters {self.name}")
        return dbus.Array(sorted(FILTER_KEYS), signature="s")

    @dbus.service.method(ADAPTER, in_signature="o", out_signature="")
    def RemoveDevice(self, path):
        device = next((d for d in self.devices() if d.path == path and d.exported), None)
        entry = self.fake.log(f"Adapter1.RemoveDevice {self.name} {device.address if device else path}")
        if device is None:
            raise self.fake.refuse(entry, bluez_error("DoesNotExist"))
        self.abort(device)
        if device.connected:
            device.drop(*REASON_LOCAL)
        device.forget()


# --- devices and transports -----------------------------------------------------------------

class Device(PropertyObject):
    def __init__(self, fake, adapter, config):
        self.address = str(config["address"]).upper()
        super().__init__(fake, f"{adapter.path}/dev_{self.address.replace(':', '_')}")
        self.adapter = adapter
        self.name = config.get("name")
        self.icon = str(config.get("icon", "audio-card"))
        self.uuids = [str(u).lower() for u in config.get("uuids", [A2DP_SINK_UUID])]
        self.rssi = int(config.get("rssi", -60))
        self.behaviour = str(config.get("behaviour", "ok"))
        if self.behaviour not in ("ok", "reject_pairing", "out_of_range"):
            raise ValueError(f"device {self.address}: unknown behaviour {self.behaviour!r}")
        self.in_range = bool(config.get("in_range", True)) and self.behaviour != "out_of_range"
        self.delay = config.get("delay")
        self.codec = int(config.get("codec", 0))
        self.has_transport = bool(config.get("transport", True))
        paired = bool(config.get("paired", False))
        self.initially_connected = bool(config.get("connected", False))
        self.known = bool(config.get("known", paired)) or paired or self.initially_connected
        self.transport = None
        self.writable = {DEVICE: {"Alias": "s", "Trusted": "b"}}
        self.reset_properties(paired, bool(config.get("trusted", False)))

    def subject(self):
        return self.address

    def reset_properties(self, paired=False, trusted=False):
        values = {
            "Address": dbus.String(self.address),
            "AddressType": dbus.String("public"),
            "Alias": dbus.String(self.default_alias()),
            "Class": dbus.UInt32(DEVICE_CLASS),
            "Icon": dbus.String(self.icon),
            "Paired": dbus.Boolean(paired),
            "Bonded": dbus.Boolean(paired),
            "Trusted": dbus.Boolean(trusted),
            "Connected": dbus.Boolean(False),
            "ServicesResolved": dbus.Boolean(False),
            "UUIDs": dbus.Array(self.uuids, signature="s"),
            "Adapter": dbus.ObjectPath(self.adapter.path),
        }
        if self.name is not None:
            values["Name"] = dbus.String(self.name)
        self.props = {DEVICE: values}

    def default_alias(self):
        return str(self.name) if self.name is not None else self.address.replace(":", "-")

    @property
    def connected(self):
        return bool(self.prop(DEVICE, "Connected"))

    @property
    def paired(self):
        return bool(self.prop(DEVICE, "Paired"))

    def write_property(self, interface, name, value):
        if name == "Alias" and value == "":
            value = dbus.String(self.default_alias())
        self.set_prop(interface, name, value)

    # Life cycle on the bus

    def found(self):
        """Discovery saw the device: it appears (with RSSI) or its RSSI is updated."""
        self.set_prop(DEVICE, "RSSI", dbus.Int16(self.rssi))
        if not self.exported:
            self.export()

    def forget(self):
        """RemoveDevice: off the bus, and unknown, unpaired and untrusted again."""
        self.unexport()
        self.known = False
        self.reset_properties()

    def bring_up(self):
        """Connected=true and the A2DP transport appears."""
        self.set_prop(DEVICE, "Connected", dbus.Boolean(True))
        if self.has_transport:
            self.transport = Transport(self.fake, self)
            self.transport.export()
        self.set_prop(DEVICE, "ServicesResolved", dbus.Boolean(True))

    def drop(self, reason, message):
        """The connection is gone: transport removed, Disconnected, Connected=false."""
        if self.transport is not None:
            self.transport.unexport()
            self.transport = None
        if self.exported:
            self.Disconnected(reason, message)
        self.set_prop(DEVICE, "ServicesResolved", dbus.Boolean(False))
        self.set_prop(DEVICE, "Connected", dbus.Boolean(False))

    # Device1

    @dbus.service.method(DEVICE, in_signature="", out_signature="", sender_keyword="sender",
                         async_callbacks=("ok", "err"))
    def Pair(self, sender=None, ok=None, err=None):
        entry = self.fake.log(f"Device1.Pair {self.address}")
        if not self.adapter.powered:
            raise self.fake.refuse(entry, bluez_error("NotReady"))
        if self.paired:
            raise self.fake.refuse(entry, bluez_error("AlreadyExists"))
        if self.adapter.busy is not None:
            raise self.fake.refuse(entry, bluez_error("InProgress"))
        self.adapter.begin(Operation("Pair", self, sender, ok, err), self._pair_paged)

    def _pair_paged(self, operation):
        if not self.in_range:
            return self.adapter.finish(operation, bluez_error("ConnectionAttemptFailed", "Page Timeout"))
        if self.behaviour == "reject_pairing":
            return self.adapter.finish(operation, bluez_error("AuthenticationRejected"))
        agent = self.fake.manager.agent_for(operation.sender)
        if agent is None:
            return self.adapter.finish(operation, bluez_error("AuthenticationFailed"))
        operation.agent = agent
        self.fake.bus.call_async(
            agent.sender, agent.path, AGENT, "RequestConfirmation", "ou",
            (dbus.ObjectPath(self.path), dbus.UInt32(PASSKEY)),
            reply_handler=lambda *args: self._pair_confirmed(operation),
            error_handler=lambda error: self.adapter.finish(operation, bluez_error("AuthenticationRejected")),
            timeout=AGENT_TIMEOUT_S)

    def _pair_confirmed(self, operation):
        if operation.finished:
            return
        operation.agent = None
        self.known = True
        self.set_prop(DEVICE, "Paired", dbus.Boolean(True))
        self.set_prop(DEVICE, "Bonded", dbus.Boolean(True))
        self.adapter.finish(operation)

    @dbus.service.method(DEVICE, in_signature="", out_signature="")
    def CancelPairing(self):
        self.fake.log(f"Device1.CancelPairing {self.address}")
        operation = self.adapter.busy
        if operation is not None and operation.device is self and operation.kind == "Pair":
            self.adapter.abort(self, bluez_error("AuthenticationCanceled"))

    @dbus.service.method(DEVICE, in_signature="", out_signature="", sender_keyword="sender",
                         async_callbacks=("ok", "err"))
    def Connect(self, sender=None, ok=None, err=None):
        entry = self.fake.log(f"Device1.Connect {self.address}")
        if not self.adapter.powered:
            raise self.fake.refuse(entry, bluez_error("NotReady"))
        if self.connected:
            raise self.fake.refuse(entry, bluez_error("AlreadyConnected"))
        if self.adapter.busy is not None:
            raise self.fake.refuse(entry, bluez_error("InProgress"))
        self.adapter.begin(Operation("Connect", self, sender, ok, err), self._connect_paged)

    def _connect_paged(self, operation):
        if not self.in_range:
            return self.adapter.finish(operation, bluez_error("Failed", "br-connection-page-timeout"))
        if not self.paired:
            return self.adapter.finish(operation, bluez_error("AuthenticationFailed"))
        if self.adapter.connected_count() >= self.adapter.max_connections:
            return self.adapter.finish(operation, bluez_error("Failed", "br-connection-concurrent-connection-limit"))
        self.bring_up()
        self.adapter.finish(operation)

    @dbus.service.method(DEVICE, in_signature="", out_signature="")
    def Disconnect(self):
        entry = self.fake.log(f"Device1.Disconnect {self.address}")
        operation = self.adapter.busy
        if operation is not None and operation.device is self and operation.kind == "Connect":
            self.adapter.abort(self, bluez_error("Failed", "br-connection-canceled"))
            return
        if not self.connected:
            raise self.fake.refuse(entry, bluez_error("NotConnected"))
        self.drop(*REASON_LOCAL)

    @dbus.service.signal(DEVICE, signature="ss")
    def Disconnected(self, name, message):
        pass


class Transport(PropertyObject):
    """The A2DP sink transport of a connected device: properties only."""

    def __init__(self, fake, device):
        super().__init__(fake, device.path + "/sep1/fd0")
        self.device = device
        values = {
            "Device": dbus.ObjectPath(device.path),
            "UUID": dbus.String(A2DP_SINK_UUID),
            "Codec": dbus.Byte(device.codec),
            "Configuration": dbus.Array(SBC_CONFIGURATION if device.codec == 0 else [], signature="y"),
            "State": dbus.String("idle"),
            "Volume": dbus.UInt16(64),
        }
        if device.delay is not None:
            values["Delay"] = dbus.UInt16(int(device.delay))
        self.props = {TRANSPORT: values}
        self.writable = {TRANSPORT: {"Volume": "q"}}

    def write_property(self, interface, name, value):
        if name == "Volume" and int(value) > 127:
            raise bluez_error("InvalidArguments")
        self.set_prop(interface, name, value)


# --- test controls --------------------------------------------------------------------------

class Control(dbus.service.Object):
    """"/org/tutti/fake": what the tests use to move speakers around and read the call log."""

    def __init__(self, fake):
        super().__init__(fake.bus, "/org/tutti/fake")
        self.fake = fake

    def device(self, address):
        device = self.fake.devices.get(str(address).upper())
        if device is None:
            raise invalid_args(f"Unknown device {address}")
        return device

    @dbus.service.method(FAKE, in_signature="sb", out_signature="")
    def SetInRange(self, address, in_range):
        device = self.device(address)
        device.in_range = bool(in_range)
        if not in_range and device.connected:
            device.drop(*REASON_TIMEOUT)
        if in_range and device.adapter.discovering:
            device.adapter.find_later(device)

    @dbus.service.method(FAKE, in_signature="s", out_signature="")
    def DropConnection(self, address):
        self.SetInRange(address, False)

    @dbus.service.method(FAKE, in_signature="sq", out_signature="")
    def SetDelay(self, address, tenths):
        device = self.device(address)
        device.delay = int(tenths)
        if device.transport is not None:
            device.transport.set_prop(TRANSPORT, "Delay", dbus.UInt16(device.delay))

    @dbus.service.method(FAKE, in_signature="sss", out_signature="", async_callbacks=("ok", "err"))
    def PhoneConnects(self, adapter_name, address, name, ok=None, err=None):
        adapter = self.fake.adapters.get(str(adapter_name))
        if adapter is None:
            raise invalid_args(f"Unknown adapter {adapter_name}")
        if not adapter.powered or not adapter.prop(ADAPTER, "Discoverable"):
            raise dbus.exceptions.DBusException("the box is not discoverable", name="org.tutti.Error.NotDiscoverable")
        if A2DP_SINK_UUID not in [str(u).lower() for u in adapter.prop(ADAPTER, "UUIDs")]:
            raise dbus.exceptions.DBusException("the box has no A2DP sink", name="org.tutti.Error.NoSink")
        agent = self.fake.manager.agent_for(None)
        if agent is None:
            raise bluez_error("AuthenticationFailed")
        address = str(address).upper()
        phone = self.fake.devices.get(address)
        if phone is None:
            phone = Device(self.fake, adapter, {"address": address, "name": str(name), "icon": "phone", "uuids": [A2DP_SOURCE_UUID]})
            self.fake.devices[address] = phone
        if not phone.exported:
            phone.export()
        self.fake.log(f"Phone.Connect {address}")

        def rejected(error=None):
            phone.forget()
            del self.fake.devices[address]
            err(bluez_error("AuthenticationRejected"))

        def connected(*args):
            phone.set_prop(DEVICE, "Connected", dbus.Boolean(True))
            phone.set_prop(DEVICE, "ServicesResolved", dbus.Boolean(True))
            ok()

        def paired(*args):
            phone.known = True
            phone.set_prop(DEVICE, "Paired", dbus.Boolean(True))
            phone.set_prop(DEVICE, "Bonded", dbus.Boolean(True))
            self.fake.bus.call_async(
                agent.sender, agent.path, AGENT, "AuthorizeService", "os", (dbus.ObjectPath(phone.path), A2DP_SINK_UUID),
                reply_handler=connected, error_handler=rejected, timeout=AGENT_TIMEOUT_S)

        if phone.paired:
            paired()
        else:
            self.fake.bus.call_async(
                agent.sender, agent.path, AGENT, "RequestAuthorization", "o", (dbus.ObjectPath(phone.path),),
                reply_handler=paired, error_handler=rejected, timeout=AGENT_TIMEOUT_S)

    @dbus.service.method(FAKE, in_signature="", out_signature="as")
    def Calls(self):
        return dbus.Array(self.fake.calls, signature="s")

    @dbus.service.method(FAKE, in_signature="", out_signature="")
    def Reset(self):
        self.fake.reset()


# --- the whole service ----------------------------------------------------------------------

class FakeBluez:
    def __init__(self, bus, config):
        self.bus = bus
        self.config = config
        self.calls = []
        self.root = Root(self)
        self.manager = AgentManager(self)
        self.adapters = {}
        for adapter_config in config.get("adapters", []):
            adapter = Adapter(self, adapter_config)
            if adapter.name in self.adapters:
                raise ValueError(f"adapter {adapter.name} configured twice")
            self.adapters[adapter.name] = adapter
        if not self.adapters:
            raise ValueError("the config has no adapters")
        self.devices = {}
        self.load_devices()
        self.control = Control(self)
        self.manager.export()
        for adapter in self.adapters.values():
            adapter.export()
        self.export_known_devices()

    def load_devices(self):
        self.devices = {}
        first = next(iter(self.adapters))
        for device_config in self.config.get("devices", []):
            adapter_name = str(device_config.get("adapter", first))
            if adapter_name not in self.adapters:
                raise ValueError(f"device {device_config.get('address')}: no adapter {adapter_name}")
            device = Device(self, self.adapters[adapter_name], device_config)
            if device.address in self.devices:
                raise ValueError(f"device {device.address} configured twice")
            self.devices[device.address] = device

    def export_known_devices(self):
        for device in self.devices.values():
            if device.known:
                device.export()
                if device.initially_connected:
                    device.bring_up()

    def bluez_objects(self):
        objects = [self.manager]
        for adapter in self.adapters.values():
            objects.append(adapter)
        for device in self.devices.values():
            objects.append(device)
            if device.transport is not None:
                objects.append(device.transport)
        return objects

    def log(self, entry):
        self.calls.append(entry)
        return entry

    def refuse(self, entry, exception):
        """Logs that the call `entry` failed and hands back the exception to raise."""
        self.calls.append(f"{entry} error={exception.get_dbus_name()}")
        return exception

    def reset(self):
        for adapter in self.adapters.values():
            adapter.abort()
            adapter.stop_discovery()
            adapter.discovery_filter = {}
        for device in self.devices.values():
            if device.transport is not None:
                device.transport.unexport()
                device.transport = None
            device.unexport()
        for adapter in self.adapters.values():
            for name, value in adapter.configured_properties().items():
                adapter.set_prop(ADAPTER, name, value)
        self.load_devices()
        self.export_known_devices()
        self.calls.clear()


def main():
    if len(sys.argv) != 2:
        print("usage: fake_bluez.py CONFIG.json", file=sys.stderr)
        return 2
    address = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
    if not address:
        print("fake_bluez: DBUS_SYSTEM_BUS_ADDRESS is not set", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as file:
        config = json.load(file)

    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(address)
    loop = GLib.MainLoop()
    try:
        FakeBluez(bus, config)
    except (ValueError, KeyError, TypeError) as problem:
        print(f"fake_bluez: bad config: {problem}", file=sys.stderr)
        return 2
    if bus.request_name(BUS_NAME, dbus.bus.NAME_FLAG_DO_NOT_QUEUE) != dbus.bus.REQUEST_NAME_REPLY_PRIMARY_OWNER:
        print(f"fake_bluez: could not own {BUS_NAME}", file=sys.stderr)
        return 1

    def stop(*args):
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, stop)
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, stop)
    bus.call_on_disconnection(lambda connection: loop.quit())
    print("ready", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
