import { Writable } from 'node:stream';
import { consoleLog, liveLine } from '../../shared/core/log';

/** A stream that records every write as it came; `isTTY` as a terminal's stderr has it. */
function fakeStream(isTTY: boolean): Writable & { isTTY: boolean; writes: string[] } {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  return Object.assign(stream, { isTTY, writes });
}

const CLEAR = '\r\x1b[2K';
const TIME = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';

describe('live progress line and log lines on a terminal', () => {
  it('a log line clears the progress line, prints on a line of its own and redraws the progress, in one write', () => {
    const tty = fakeStream(true);
    const status = liveLine(tty);
    const log = consoleLog('demo', status);

    log.info('before any progress');
    status.set('progress: 1/4 files');
    log.warn('a retry');
    status.set('progress: 2/4 files');
    status.done();
    log.info('after');

    expect(tty.writes).toHaveLength(6);
    expect(tty.writes[0]).toMatch(new RegExp(`^${TIME} info  \\[demo\\] before any progress\\n$`));
    expect(tty.writes[1]).toBe(`${CLEAR}progress: 1/4 files`);
    expect(tty.writes[2]).toMatch(new RegExp(`^\\r\\x1b\\[2K${TIME} warn  \\[demo\\] a retry\\nprogress: 1/4 files$`));
    expect(tty.writes[3]).toBe(`${CLEAR}progress: 2/4 files`);
    expect(tty.writes[4]).toBe('\n');
    expect(tty.writes[5]).toMatch(new RegExp(`^${TIME} info  \\[demo\\] after\\n$`));
  });

  it('the log line is redacted like any console log line', () => {
    const tty = fakeStream(true);
    const status = liveLine(tty);
    status.set('progress');
    consoleLog('', status).error('GET https://x.blob.core.windows.net/c/f.gz?sv=2024&sig=secret');
    expect(tty.writes[1]).not.toContain('secret');
    expect(tty.writes[1].endsWith('\nprogress')).toBe(true);
  });

  it('not a terminal: no live line, no control bytes, log lines as they are', () => {
    const pipe = fakeStream(false);
    const status = liveLine(pipe);
    const log = consoleLog('demo', status);
    expect(status.live).toBe(false);
    status.set('progress: 1/4 files');
    log.info('a line');
    status.done();
    expect(pipe.writes).toHaveLength(1);
    expect(pipe.writes[0]).toMatch(new RegExp(`^${TIME} info  \\[demo\\] a line\\n$`));
  });
});
