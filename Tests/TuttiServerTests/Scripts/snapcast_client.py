#!/usr/bin/env python3
"""Drives a server with the `snapcast` package (the library Home Assistant's Snapcast
integration uses), one command per run, and prints what it saw as JSON.

    snapcast_client.py PORT status
    snapcast_client.py PORT volume CLIENT PERCENT | mute CLIENT 0|1 | latency CLIENT MS | name CLIENT NAME
    snapcast_client.py PORT stream GROUP STREAM | join GROUP CLIENT | unjoin GROUP CLIENT | group_volume GROUP PERCENT
    snapcast_client.py PORT watch SECONDS          (one JSON line per callback the library fires)
    snapcast_client.py PORT websocket HTTPPORT     (Server.GetStatus and a notification over /jsonrpc)

Every change is made through the library's own objects (as Home Assistant does), then the
server's state is read back with a fresh Server.GetStatus.
"""
import asyncio
import json
import sys

import snapcast.control


def summary(server):
    return {
        "version": server.version,
        "groups": [
            {"id": g.identifier, "name": g.name, "stream": g.stream, "muted": g.muted, "volume": g.volume,
             "clients": sorted(g.clients)}
            for g in server.groups
        ],
        "clients": {
            c.identifier: {"name": c.name, "friendly_name": c.friendly_name, "volume": c.volume, "muted": c.muted,
                           "latency": c.latency, "connected": c.connected}
            for c in server.clients
        },
        "streams": {s.identifier: {"status": s.status, "name": s.name} for s in server.streams},
    }


async def connect(port):
    loop = asyncio.get_running_loop()
    return await asyncio.wait_for(snapcast.control.create_server(loop, "127.0.0.1", port, reconnect=False), 10)


async def change(port, command, args):
    server = await connect(port)
    if command in ("volume", "mute", "latency", "name"):
        client = server.client(args[0])
        if command == "volume":
            await client.set_volume(int(args[1]))
        elif command == "mute":
            await client.set_muted(args[1] == "1")
        elif command == "latency":
            await client.set_latency(int(args[1]))
        else:
            await client.set_name(args[1])
    elif command in ("stream", "join", "unjoin", "group_volume"):
        group = server.group(args[0])
        if command == "stream":
            await group.set_stream(args[1])
        elif command == "join":
            await group.add_client(args[1])
        elif command == "unjoin":
            await group.remove_client(args[1])
        else:
            await group.set_volume(int(args[1]))
    elif command != "status":
        raise SystemExit(f"unknown command {command}")
    server.stop()
    fresh = await connect(port)
    print(json.dumps(summary(fresh)))
    fresh.stop()


async def watch(port, seconds):
    server = await connect(port)

    def report(kind, obj):
        print(json.dumps({"event": kind, "id": obj.identifier, "state": summary(server)}), flush=True)

    for client in server.clients:
        client.set_callback(lambda c: report("client", c))
    for group in server.groups:
        group.set_callback(lambda g: report("group", g))
    server.set_on_update_callback(lambda: print(json.dumps({"event": "update", "state": summary(server)}), flush=True))
    print(json.dumps({"event": "ready"}), flush=True)
    await asyncio.sleep(seconds)
    server.stop()


async def websocket(port, http_port):
    import websockets
    async with websockets.connect(f"ws://127.0.0.1:{http_port}/jsonrpc") as ws:
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "Server.GetStatus"}))
        status = json.loads(await ws.recv())
        client = status["result"]["server"]["groups"][0]["clients"][0]["id"]
        # A change made elsewhere arrives as a notification on the WebSocket.
        other = await connect(port)
        await other.client(client).set_latency(33)
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if message.get("method") == "Client.OnLatencyChanged":
                print(json.dumps({"status": status["result"]["server"]["server"]["snapserver"], "notification": message}))
                break
        other.stop()


def main():
    port, command, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    if command == "watch":
        asyncio.run(watch(port, float(args[0])))
    elif command == "websocket":
        asyncio.run(websocket(port, int(args[0])))
    else:
        asyncio.run(change(port, command, args))


if __name__ == "__main__":
    main()
