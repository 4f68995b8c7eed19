// A TCP proxy that forwards to a target port and cuts chosen connections after N response bytes:
// a real dropped download, not a mocked one.
import * as net from 'node:net';

export interface DropProxy {
  port: number;
  /** connections cut so far */
  drops: number;
  close(): Promise<void>;
}

export interface DropOptions {
  dropAfterBytes: number;
  dropTimes: number;
  onlyGet?: boolean;
  /** per connection (0-based, in accept order): response bytes to let through before the cut, or undefined
   *  for no cut; overrides dropAfterBytes (dropTimes still caps the cuts) */
  cutAt?: (connection: number) => number | undefined;
}

export async function startDropProxy(targetPort: number, opts: DropOptions): Promise<DropProxy> {
  const sockets = new Set<net.Socket>();
  const state = { drops: 0, connections: 0 };
  const server = net.createServer((client) => {
    const cut = opts.cutAt ? opts.cutAt(state.connections++) : opts.dropAfterBytes;
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    let isGet = !opts.onlyGet;
    let sent = 0;
    client.on('data', (d) => {
      if (d.subarray(0, 4).toString() === 'GET ') isGet = true;
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (isGet && cut !== undefined && state.drops < opts.dropTimes && sent + d.length > cut) {
        client.write(d.subarray(0, Math.max(0, cut - sent)));
        state.drops++;
        client.destroy();
        upstream.destroy();
        return;
      }
      sent += d.length;
      client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    get drops() {
      return state.drops;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
