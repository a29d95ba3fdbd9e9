#!/usr/bin/env python3
"""Fills in the expectations of a PromQL test script from the real Prometheus.

    src/promql/testdata/fill_expectations.py queries.in > queries.test

Every group of the script (its data up to the next `clear`) is loaded into a fresh Prometheus
2.42 server (Debian's /usr/bin/prometheus) through its remote-write receiver, with the series
in label order: the TSDB then returns them in that order, as our stores do, so the answers that
depend on series order (which of several equal values topk/bottomk keep, float summation order,
sort ties) are the ones our engine must give. Staleness markers go in as the real marker.

Each `eval instant`, `eval_ordered instant` and `eval_fail instant` is sent to /api/v1/query and
each `eval range` to /api/v1/query_range; the answers become the expected lines (an error turns
the command into eval_fail with Prometheus's message as a comment, and a command written as
eval_fail that succeeds is reported on stderr). eval_ordered keeps Prometheus's order, the others
are written in label order. Other commands and comments are copied unchanged; expected lines
already present are replaced. Within a group, all `load`s must come before the first query.
"""
import json, os, re, shutil, signal, socket, struct, subprocess, sys, tempfile, time
import urllib.error, urllib.parse, urllib.request

PROMETHEUS = '/usr/bin/prometheus'
STALE_NAN = struct.unpack('<d', struct.pack('<Q', 0x7ff0000000000002))[0]
UNITS = {'ms': 1, 's': 1000, 'm': 60000, 'h': 3600000, 'd': 86400000, 'w': 604800000,
         'y': 31536000000}


def parse_script(path):
    """[(kind, line, block)]: 'raw' for comments and blank lines, 'cmd' with its indented block."""
    lines = open(path).read().split('\n')
    items, i = [], 0
    while i < len(lines):
        line = lines[i]
        i += 1
        s = line.strip()
        if not s or s.startswith('#') or line[0] in ' \t':
            items.append(('raw', line, []))
            continue
        block = []
        while i < len(lines) and lines[i] and lines[i][0] in ' \t':
            block.append(lines[i])
            i += 1
        items.append(('cmd', line, block))
    return items


def to_ms(t):
    if re.fullmatch(r'-?[0-9.]+(e[-+]?[0-9]+)?', t):
        return round(float(t) * 1000)
    parts = re.findall(r'(\d+)(ms|y|w|d|h|m|s)', t)
    if not parts or ''.join(n + u for n, u in parts) != t:
        raise ValueError('bad time %r' % t)
    return sum(int(n) * UNITS[u] for n, u in parts)


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == '\\' and i + 1 < len(s):
            out.append({'n': '\n', 't': '\t'}.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(s[i])
            i += 1
    return ''.join(out)


def parse_series(text):
    """'name{a="b"} rest' -> (sorted label pairs, rest)."""
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)?(\{(?:[^}"\']|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\')*\})?(.*)$',
                 text.strip())
    labels = {}
    if m.group(1):
        labels['__name__'] = m.group(1)
    if m.group(2):
        for name, dq, sq in re.findall(
                r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*(?:"((?:\\.|[^"\\])*)"|\'((?:\\.|[^\'\\])*)\')',
                m.group(2)):
            v = unescape(dq if dq else sq)
            if v:
                labels[name] = v
    return sorted(labels.items()), m.group(3).strip()


def value(s):
    return STALE_NAN if s == 'stale' else float(s)


def expand(text):
    """'1 2+3x4 _ _x2 stale' -> values, None for omitted ones (as testing/script.cc reads them)."""
    out = []
    for f in text.split():
        if 'x' not in f:
            out.append(None if f == '_' else value(f))
            continue
        base, count = f.rsplit('x', 1)
        count = int(count)
        if base == '_':
            out.extend([None] * count)
            continue
        op = next((k for k in range(1, len(base))
                   if base[k] in '+-' and base[k - 1] not in 'eE'), None)
        start, inc = (value(base), 0.0) if op is None else \
            (value(base[:op]), value(base[op + 1:]) * (1 if base[op] == '+' else -1))
        for _ in range(count + 1):
            out.append(start)
            start += inc
    return out


# --- Remote write: protobuf by hand, snappy as one literal block.

def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7f) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


def write_request(series):
    req = bytearray()
    for labels, samples in series:
        ts = bytearray()
        for n, v in labels:
            ts += field(1, field(1, n.encode()) + field(2, v.encode()))
        for t, v in samples:
            ts += field(2, bytes([1 << 3 | 1]) + struct.pack('<d', v) + bytes([2 << 3]) + varint(t))
        req += field(1, bytes(ts))
    data = bytes(req)
    out = bytearray(varint(len(data)))
    for pos in range(0, len(data), 65536):
        chunk = data[pos:pos + 65536]
        m = len(chunk) - 1
        if m < 60:
            out.append(m << 2)
        elif m < 256:
            out += bytes([60 << 2, m])
        else:
            out += bytes([61 << 2, m & 0xff, m >> 8])
        out += chunk
    return bytes(out)


class Server:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='promql-fill-')
        with open(os.path.join(self.dir, 'prometheus.yml'), 'w') as f:
            f.write('global:\n  evaluation_interval: 1m\n')
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        self.port = s.getsockname()[1]
        s.close()
        self.log = open(os.path.join(self.dir, 'log'), 'w')
        self.proc = subprocess.Popen(
            [PROMETHEUS, '--config.file=' + os.path.join(self.dir, 'prometheus.yml'),
             '--storage.tsdb.path=' + os.path.join(self.dir, 'data'),
             '--storage.tsdb.retention.time=100y', '--web.enable-remote-write-receiver',
             '--web.listen-address=127.0.0.1:%d' % self.port],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.url = 'http://127.0.0.1:%d' % self.port
        deadline = time.time() + 60
        while True:
            try:
                if urllib.request.urlopen(self.url + '/-/ready', timeout=2).status == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError('prometheus did not start: ' + open(self.log.name).read()[-2000:])
            time.sleep(0.1)

    def write(self, series):
        req = urllib.request.Request(self.url + '/api/v1/write', data=write_request(series), headers={
            'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy',
            'X-Prometheus-Remote-Write-Version': '0.1.0'})
        urllib.request.urlopen(req, timeout=60)

    def query(self, path, params):
        req = urllib.request.Request(self.url + path, data=urllib.parse.urlencode(params).encode())
        try:
            body = urllib.request.urlopen(req, timeout=60).read()
        except urllib.error.HTTPError as e:
            body = e.read()
        return json.loads(body)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def fmt_value(s):
    f = float(s)
    if f != f:
        return 'NaN'
    if f in (float('inf'), float('-inf')):
        return '+Inf' if f > 0 else '-Inf'
    if f == 0:
        return '-0' if str(s).startswith('-') else '0'
    r = repr(f)
    return r[:-2] if r.endswith('.0') else r


def fmt_labels(metric):
    name = metric.get('__name__', '')
    rest = ', '.join('%s=%s' % (k, json.dumps(v, ensure_ascii=False))
                     for k, v in sorted(metric.items()) if k != '__name__')
    return '%s{%s}' % (name, rest) if rest or not name else name


def label_key(metric):
    return sorted(metric.items())


def compress(values):
    """Runs of one value (4 and more) as 'vxN', of missing steps (3 and more) as '_xN'."""
    out, i = [], 0
    while i < len(values):
        j = i
        while j < len(values) and values[j] == values[i]:
            j += 1
        n = j - i
        if values[i] == '_' and n >= 3:
            out.append('_x%d' % n)
        elif values[i] != '_' and n >= 4:
            out.append('%sx%d' % (values[i], n - 1))
        else:
            out.extend(values[i:j])
        i = j
    return ' '.join(out)


def answer(server, line):
    """Returns the command line and expected lines for one query command."""
    s = line.strip()
    m = re.match(r'^(eval|eval_ordered|eval_fail) instant at (\S+) (.*)$', s)
    if m:
        cmd, t, expr = m.groups()
        r = server.query('/api/v1/query', {'query': expr, 'time': '%.3f' % (to_ms(t) / 1000)})
        if r['status'] != 'success':
            err = re.sub(r'^invalid parameter "query": ', '', r['error'])
            return ['eval_fail instant at %s %s' % (t, expr), '  # ' + err[:150]]
        if cmd == 'eval_fail':
            sys.stderr.write('expected a failure, got a result: %s\n' % s)
            cmd = 'eval'
        data = r['data']
        out = ['%s instant at %s %s' % (cmd, t, expr)]
        if data['resultType'] == 'scalar':
            out.append('  ' + fmt_value(data['result'][1]))
        elif data['resultType'] == 'vector':
            res = data['result']
            if cmd != 'eval_ordered':
                res = sorted(res, key=lambda e: label_key(e['metric']))
            for e in res:
                out.append('  %s %s' % (fmt_labels(e['metric']), fmt_value(e['value'][1])))
        else:
            raise RuntimeError('cannot express a %s result: %s' % (data['resultType'], s))
        return out
    m = re.match(r'^eval range from (\S+) to (\S+) step (\S+) (.*)$', s)
    if m:
        start, end, step, expr = m.groups()
        a, b, st = to_ms(start), to_ms(end), to_ms(step)
        r = server.query('/api/v1/query_range', {'query': expr, 'start': '%.3f' % (a / 1000),
                                                  'end': '%.3f' % (b / 1000),
                                                  'step': '%.3f' % (st / 1000)})
        if r['status'] != 'success':
            raise RuntimeError('range query failed (%s): %s' % (r['error'], s))
        out = [s]
        steps = (b - a) // st + 1
        for e in sorted(r['data']['result'], key=lambda e: label_key(e['metric'])):
            vals = ['_'] * steps
            for t, v in e['values']:
                vals[(round(float(t) * 1000) - a) // st] = fmt_value(v)
            out.append('  %s %s' % (fmt_labels(e['metric']), compress(vals)))
        return out
    return None


def main():
    items = parse_script(sys.argv[1])
    out = []
    groups = [[]]
    for item in items:
        if item[0] == 'cmd' and item[1].strip() == 'clear':
            groups.append([item])
        else:
            groups[-1].append(item)
    for group in groups:
        series = {}
        queried = False
        for kind, line, block in group:
            if kind == 'cmd' and line.startswith('load '):
                if queried:
                    raise RuntimeError('load after a query in the same group: ' + line)
                step = to_ms(line.split()[1])
                for b in block:
                    if not b.strip() or b.strip().startswith('#'):
                        continue
                    labels, rest = parse_series(b)
                    samples = series.setdefault(tuple(labels), {})
                    for k, v in enumerate(expand(rest)):
                        if v is not None:
                            samples[k * step] = v
            elif kind == 'cmd' and line.startswith(('eval', 'check_range')):
                queried = True
        server = Server() if queried else None
        try:
            if server and series:
                server.write([(list(l), sorted(s.items())) for l, s in sorted(series.items())])
            for kind, line, block in group:
                ans = answer(server, line) if kind == 'cmd' and server else None
                if ans is None:
                    out.append(line)
                    out.extend(block)
                else:
                    out.extend(ans)
        finally:
            if server:
                server.stop()
    print('\n'.join(out).rstrip('\n'))


main()
