#!/usr/bin/env bash
# The migration-targets workflow on real KVM, across lab CPU models: profile two hosts (cortex-a57, cortex-a72) and
# a third (neoverse-n1), merge the two into a targets config, then on each target host boot the `targets` test guest
# (discovery answers, bad parameters, ID registers read with mrs, all compared with the config) and the Debian
# kernel (which must log the number of target implementations); the third host is refused.
# usage: targets_flow.sh EMULATOR ROAM     (the arm64 roam, run on the build machine for merge and check)
set -euo pipefail
if [ "${ROAM_LAB_DIRECT:-0}" = 1 ]; then
	echo "targets_flow: needs the lab's CPU models as different hosts; skipped on one real host (ROAM_LAB_DIRECT=1)"
	exit 77
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
roam=("$@")
. "$root/tests/lab/lib.sh"
lab_init targets_flow 300

for model in cortex-a57 cortex-a72 neoverse-n1; do
	step "profile $model"
	lab --cpu "$model" -- roam cpu-profile --name "$model" -o "/share/$model.json"
done

step "merge cortex-a57 + cortex-a72"
"${roam[@]}" targets merge "$share/cortex-a57.json" "$share/cortex-a72.json" -o "$share/targets.json"
"${roam[@]}" targets check "$share/targets.json" --profile "$share/cortex-a72.json" ||
	fail "cortex-a72 should be able to run guests of its own targets config"
try "${roam[@]}" targets check --json "$share/targets.json" --profile "$share/neoverse-n1.json" >"$share/check-n1.json"
[ $status = 1 ] || fail "check of neoverse-n1 exited $status, expected 1"
grep -q '"host-not-in-targets"' "$share/check-n1.json" || fail "check of neoverse-n1 does not report host-not-in-targets"

guest_cmd="roam run --targets /share/targets.json -k /opt/roam/guests/targets.bin > /share/guest-\$M.txt &&
  roam run --targets /share/targets.json -c 2 -k /opt/roam/kernel/Image -i /opt/roam/guests/linux-initrd.cpio.gz \
    -p 'console=ttyS0 quiet roam.run=smccc' > /share/linux-\$M.txt &&
  roam run -k /opt/roam/guests/targets.bin > /share/plain-\$M.txt"
for model in cortex-a57 cortex-a72; do
	step "run the targets guest and Linux on $model"
	lab --cpu "$model" -- sh -c "M=$model; $guest_cmd"
	grep -q "smccc: KVM: Number of target implementation CPUs is 2" "$share/linux-$model.txt" ||
		fail "the Linux guest on $model did not log 2 target implementations: $(cat "$share/linux-$model.txt")"
	grep -q "targets-guest: discovery not supported" "$share/plain-$model.txt" ||
		fail "without --targets the discovery calls must be unsupported on $model"
	python3 - "$share/targets.json" "$share/guest-$model.txt" "$model" <<'PY'
import json, re, sys
targets = json.load(open(sys.argv[1]))
seen = dict(re.findall(r"targets-guest: (\w+)=(0x[0-9a-f]+)", open(sys.argv[2]).read()))
text = open(sys.argv[2]).read()
want = {"MIDR_EL1": targets["guest"]["midr"], "REVIDR_EL1": targets["guest"]["revidr"], "AIDR_EL1": targets["guest"]["aidr"]}
want.update({k: v for k, v in targets["id_registers"].items() if k in seen})
bad = [f"{k}: guest reads {seen.get(k)}, config says {v}" for k, v in want.items() if int(seen.get(k, "-1"), 0) != int(v, 0)]
impls = re.findall(r"impl (\d+) midr=(0x[0-9a-f]+) revidr=(0x[0-9a-f]+) aidr=(0x[0-9a-f]+)", text)
if len(impls) != len(targets["targets"]):
    bad.append(f"guest saw {len(impls)} implementations, config has {len(targets['targets'])}")
for (i, midr, revidr, aidr), t in zip(impls, targets["targets"]):
    if (int(midr, 16), int(revidr, 16), int(aidr, 16)) != (int(t["midr"], 0), int(t["revidr"], 0), int(t["aidr"], 0)):
        bad.append(f"implementation {i}: guest got {midr}/{revidr}/{aidr}, config has {t}")
if "bad parameters refused" not in text:
    bad.append("the guest did not finish its bad-parameter checks")
if bad:
    sys.exit(f"targets_flow on {sys.argv[3]}:\n  " + "\n  ".join(bad))
print(f"targets_flow: {sys.argv[3]}: {len(want)} registers and {len(impls)} implementations match the config")
PY
done

step "neoverse-n1 is refused"
try lab --cpu neoverse-n1 -- roam run --targets /share/targets.json -k /opt/roam/guests/hello.bin >"$share/n1.txt" 2>&1
cat "$share/n1.txt"
[ $status = 1 ] || fail "roam on neoverse-n1 exited $status, expected 1"
grep -q "roam: host MIDR 0x414fd0c1 is not in the targets of /share/targets.json (cortex-a57 (MIDR 0x411fd070), cortex-a72 (MIDR 0x410fd083)); use --force-host to try anyway" "$share/n1.txt" ||
	fail "the refusal on neoverse-n1 does not name the host MIDR and the targets"
echo "targets_flow: passed"
