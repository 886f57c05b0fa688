#!/usr/bin/env bash
# Hostile guests (guest-images/hostile_*.c, docs/security.md) attack roam from inside, in one lab host:
#   hostile_virtio with a disk and with an entropy device: buffers outside RAM, across its end, in MMIO space and in
#     the read-only PV-lock region; a looping chain, a chain through 256 descriptors, an indirect table of 10,000, an
#     available index 10,000 ahead; rings outside RAM and a used ring in the PV-lock region; a disk write past its
#     end and from outside RAM; 200 rounds of break-and-reset; descriptors rewritten by vCPU1 during 500 requests;
#   hostile_mmio: 10,000 stores into the PV-lock region and 10,000 accesses where nothing is mapped;
#   hostile_nisv: a load pair from outside RAM, which KVM cannot emulate;
#   hostile_hcall, plain and with --targets: roam's hypercalls (and KVM's FEATURES) with all-ones arguments;
#   hostile_ucall: 10,000 prints with escape sequences and forged lines, 10,000 malformed stores, then a ucall
#     outside RAM.
# Each must leave roam alive to finish (exit 0) or stop the VM cleanly (exit 1, for the last two) with each problem
# reported in one line naming it, floods bounded by the rate limits, no raw control character in roam's lines, and
# the disk file unchanged (sha256 before and after).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/lab/lib.sh"
lab_init "hostile test" 900
out=$share/out.txt

try lab -- sh -c '
cd /tmp
G=/opt/roam/guests
head -c 4194304 /dev/urandom >disk.img
before=$(sha256sum disk.img | cut -d" " -f1)
run() {
	name=$1
	shift
	echo "=== $name: $*"
	"$@" >/tmp/$name.out 2>&1
	rc=$?
	sed "s/^/$name| /" /tmp/$name.out
	echo "=== $name exit $rc"
}
run disk roam run -m 128 -c 2 --disk /tmp/disk.img -k $G/hostile_virtio.bin
after=$(sha256sum disk.img | cut -d" " -f1)
[ "$before" = "$after" ] && echo "=== disk unchanged" || echo "=== disk changed: $before -> $after"
run rng roam run -m 128 -c 2 --rng -k $G/hostile_virtio.bin
run mmio roam run -m 128 -c 2 -k $G/hostile_mmio.bin
run nisv roam run -m 128 -c 2 -k $G/hostile_nisv.bin
run hcall roam run -c 2 -k $G/hostile_hcall.bin
roam cpu-profile -o p.json >/dev/null && roam targets merge p.json -o t.json >/dev/null
run hcall-targets roam run -c 2 --targets t.json -k $G/hostile_hcall.bin
run ucall roam run -k $G/hostile_ucall.bin
echo "=== end"' >"$out" 2>&1
# The output is long (the ucall flood's lines): show what matters, everything on failure.
grep -vE '^ucall\| roam: guest: \\x1b' "$out" | cut -c1-300
[ $status = 0 ] || fail "the lab run exited $status"
python3 - "$out" <<'PY' || { cat "$out"; fail "see above"; }
import re, sys
text = open(sys.argv[1], errors="replace").read()
assert "=== end" in text, "the lab run did not get to the end"
runs = {}
for m in re.finditer(r"^=== (\S+): .*?\n(.*?)^=== \1 exit (\d+)$", text, re.S | re.M):
    lines = [l.split("| ", 1)[1] for l in m.group(2).splitlines() if "| " in l]
    runs[m.group(1)] = (int(m.group(3)), lines)
want_exit = {"disk": 0, "rng": 0, "mmio": 0, "nisv": 1, "hcall": 0, "hcall-targets": 0, "ucall": 1}
for name, code in want_exit.items():
    assert name in runs, f"{name}: did not run"
    got, lines = runs[name]
    assert got == code, f"{name}: roam exited {got}, expected {code}:\n" + "\n".join(lines[-20:])
    for l in lines:
        # roam's own lines never carry a control character or a raw byte from the guest (console lines may).
        if l.startswith("roam: "):
            assert all(32 <= ord(c) < 127 for c in l), f"{name}: a roam line with a control character: {l!r}"

def roam_lines(name):
    return [l for l in runs[name][1] if l.startswith("roam: ")]

def expect(name, pattern, at_most=None):
    hits = [l for l in runs[name][1] if re.search(pattern, l)]
    assert hits, f"{name}: no line matches {pattern!r}"
    assert at_most is None or len(hits) <= at_most, f"{name}: {len(hits)} lines match {pattern!r} (at most {at_most})"
    return hits

for name, dev in (("disk", "virtio-blk0"), ("rng", "virtio-rng0")):
    data = "1" if name == "disk" else "0"
    expect(name, r"hostile-virtio: a valid request after all that: done")
    for phase, reason in [
            ("a buffer outside RAM", rf"descriptor {data} \(addr 0x1000000000, len 64\) is not inside guest RAM"),
            ("a buffer across the end of RAM", rf"descriptor {data} \(addr 0x47fffff8, len 64\) is not inside guest RAM"),
            ("a buffer in MMIO space", rf"descriptor {data} \(addr 0x9000000, len 64\) is not inside guest RAM"),
            ("a device-writable buffer in the PV-lock region", r"\(addr 0x9100000\) is device-writable in memory the guest cannot write"),
            ("a chain that loops", r"chain 0 loops \(more than the queue's 16 descriptors\)"),
            ("a chain through 256 descriptors and back", r"chain 0 loops \(more than the queue's 256 descriptors\)"),
            ("an indirect table of 10000 descriptors", r"indirect table of 10000 descriptors is longer than 256"),
            ("an available index 10000 ahead", r"available index 10000 is 10000 entries ahead of the device's 0, more than the queue size 16"),
            ("a descriptor table outside RAM", r"the descriptor table at 0x1000000000 \(queue size 16\) is not inside guest RAM"),
            ("a used ring in the read-only PV-lock region", r"the used ring at 0x9100000 is in memory the guest cannot write")]:
        # Between the guest's previous line and the one for this attack: exactly one line of roam's, the reason.
        out = runs[name][1]
        at = [i for i, l in enumerate(out) if re.search(rf"hostile-virtio: {phase}: refused", l)]
        assert len(at) == 1, f"{name}: {phase}: no guest line"
        prev = max(i for i in range(at[0]) if out[i].startswith("hostile-virtio: "))
        said = [l for l in out[prev + 1:at[0]] if l.startswith("roam: ")]
        assert len(said) == 1 and re.search(rf"^roam: {dev} \(virtio_mmio@a000000\).*{reason}; the device needs a reset", said[0]), \
            f"{name}: {phase}: roam said {said}"
    # The reset loop and the rewriting: at most 4 reports a second, the rest counted.
    expect(name, r"hostile-virtio: a reset loop: 200 rounds refused")
    expect(name, r"more malformed requests were not reported \(more than 4 a second\)")
    m = expect(name, r"descriptors rewritten while the device works: (\d+) done, (\d+) refused")
    assert len([l for l in roam_lines(name) if "needs a reset" in l]) <= 80, f"{name}: too many reports"
    print(f"hostile test: {name}: every attack refused with its reason; {m[0].split(': ', 2)[2]}")
expect("disk", r"hostile-virtio: a write past the end of the disk: done")
expect("disk", r"descriptor 1 \(addr 0x1000000000, len 512\) is not inside guest RAM")
assert "=== disk unchanged" in text, "the disk file changed: " + re.search(r"=== disk changed.*", text).group(0)

expect("mmio", r"hostile-mmio: 10000 stores into the PV-lock region: nothing changed")
expect("mmio", r"hostile-mmio: 10000 loads and stores where nothing is mapped: loads read 0")
expect("mmio", r"^roam: the guest wrote \d+ bytes at offset 0x[0-9a-f]+ of the PV-lock region", at_most=8)
expect("mmio", r"of the PV-lock region .*\(further reports suppressed\)", at_most=1)
expect("mmio", r"^roam: vCPU\d: guest (read|write) of \d bytes at 0x[0-9a-f]+: nothing is mapped there", at_most=16)
nisv = expect("nisv", r"^roam: vCPU0: the guest accessed 0x48000000 with an instruction that has no valid syndrome", at_most=1)
assert roam_lines("nisv") == nisv, f"nisv: roam said {roam_lines('nisv')}"

for name in ("hcall", "hcall-targets"):
    expect(name, r"hostile-hcall: all-ones hypercalls answered as documented" + (r" \(with targets\)" if "targets" in name else r","))
    assert not roam_lines(name), f"{name}: roam logged {roam_lines(name)}"

lines = roam_lines("ucall")
prints = [l for l in lines if l.startswith("roam: guest: \\x1b[2J")]
assert prints and all("\\nsecond line" in l for l in prints), "ucall: the messages are not escaped"
assert len(prints) <= 16 * 60, f"ucall: {len(prints)} messages logged"
expect("ucall", r"^roam: guest: \d+ ucall messages were not logged \(more than 16 a second\)")
expect("ucall", r"^roam: ucall: the guest wrote 4 bytes at offset 0; a ucall is one 8-byte store at offset 0")
last = expect("ucall", r"^roam: ucall: the guest passed 0x1000000000, which is not 304 bytes of guest RAM$", at_most=1)
assert lines[-1] == last[0], f"ucall: roam did not stop at the bad ucall: {lines[-1]}"
assert not any("roam let the guest run on" in l for l in runs["ucall"][1])
print(f"hostile test: ucall: {len(prints)} of 10000 prints logged, escaped; stopped at the ucall outside RAM")
PY
echo "hostile test: passed"
