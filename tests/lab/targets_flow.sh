#!/usr/bin/env bash
# The migration-targets workflow on real KVM, across lab CPU models: profile every lab model and print what each has
# beyond the ID registers (GIC CPU interface, PMU, counter frequency), merge cortex-a57 and cortex-a72 into a targets
# config, then on each target host boot the `targets` test guest (discovery answers, bad parameters, ID registers,
# ICC_CTLR_EL1 and CNTFRQ_EL0 read with mrs, all compared with the config) and the Debian kernel (which must log the
# number of target implementations). neoverse-n1 is refused with one report of every problem; merging max with
# cortex-a57 is refused naming both counter frequencies, with every other problem on a line of its own; on cortex-a57
# a config whose GIC, PMU and frequency do not fit is refused with all three at once, one that lowers the GIC's
# priority and ID bits runs, and --dry-run --dump-dtb sets a VM up, writes its device tree and runs nothing.
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

models="cortex-a57 cortex-a72 neoverse-n1 a64fx max"
for model in $models; do
	step "profile $model"
	lab --cpu "$model" -- roam cpu-profile --name "$model" -o "/share/$model.json"
done
step "what each model has beyond the ID registers"
python3 - "$share" $models <<'PY'
import json, sys
print(f"{'model':<12} {'ICC_CTLR_EL1':<12} {'priority bits':>13} {'ID bits':>7} {'SEIS':>4} {'A3V':>3} "
      f"{'PMU counters':>12} {'PMUVer':>6} {'N settable':>10} {'CNTFRQ Hz':>11}")
for m in sys.argv[2:]:
    c = json.load(open(f"{sys.argv[1]}/{m}.json")).get("compat")
    if not c:
        sys.exit(f"targets_flow: the profile of {m} has no compat object")
    v = int(c["icc_ctlr_el1"], 0)
    print(f"{m:<12} {v:<#12x} {((v >> 8) & 7) + 1:>13} {24 if (v >> 11) & 7 else 16:>7} {(v >> 14) & 1:>4} "
          f"{(v >> 15) & 1:>3} {c['pmu_counters']:>12} {c['pmu_version']:>6} {str(c['pmu_counters_settable']):>10} "
          f"{c['cntfrq']:>11}")
PY

step "merge cortex-a57 + cortex-a72"
"${roam[@]}" targets merge "$share/cortex-a57.json" "$share/cortex-a72.json" -o "$share/targets.json"
# The merged compat: the fewest priority and ID bits and PMU counters, SEIS, A3V and the frequency as on both hosts.
python3 - "$share/targets.json" "$share/cortex-a57.json" "$share/cortex-a72.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["compat"]
a, b = (json.load(open(p))["compat"] for p in sys.argv[2:])
ia, ib = int(a["icc_ctlr_el1"], 0), int(b["icc_ctlr_el1"], 0)
want = min(ia & 0x700, ib & 0x700) | min(ia & 0x3800, ib & 0x3800) | (ia & 0xc000)
want = {"icc_ctlr_el1": want, "pmu_counters": min(a["pmu_counters"], b["pmu_counters"]), "cntfrq": a["cntfrq"]}
got = {"icc_ctlr_el1": int(t["icc_ctlr_el1"], 0), "pmu_counters": t["pmu_counters"], "cntfrq": t["cntfrq"]}
if got != want:
    sys.exit(f"targets_flow: the merged compat is {got}, expected {want}")
print(f"targets_flow: merged cortex-a57 + cortex-a72: ICC_CTLR_EL1 {got['icc_ctlr_el1']:#x}, "
      f"{got['pmu_counters']} PMU counters, CNTFRQ {got['cntfrq']} Hz")
PY
"${roam[@]}" targets check "$share/targets.json" --profile "$share/cortex-a72.json" ||
	fail "cortex-a72 should be able to run guests of its own targets config"
try "${roam[@]}" targets check --json "$share/targets.json" --profile "$share/neoverse-n1.json" >"$share/check-n1.json"
[ $status = 1 ] || fail "check of neoverse-n1 exited $status, expected 1"
grep -q '"host-not-in-targets"' "$share/check-n1.json" || fail "check of neoverse-n1 does not report host-not-in-targets"

guest_cmd="roam run --targets /share/targets.json -k /opt/roam/guests/targets.bin > /share/guest-\$M.txt &&
  roam run --targets /share/targets.json -c 2 -k /opt/roam/kernel/Image -i /opt/roam/guests/linux-initrd.cpio.gz \
    -p 'console=ttyS0 quiet roam.run=smccc' > /share/linux-\$M.txt &&
  roam run --dump-dtb /share/guest-\$M.dtb -k /opt/roam/guests/targets.bin > /share/plain-\$M.txt"
for model in cortex-a57 cortex-a72; do
	step "run the targets guest and Linux on $model"
	lab --cpu "$model" -- sh -c "M=$model; $guest_cmd"
	grep -q "smccc: KVM: Number of target implementation CPUs is 2" "$share/linux-$model.txt" ||
		fail "the Linux guest on $model did not log 2 target implementations: $(cat "$share/linux-$model.txt")"
	grep -q "targets-guest: discovery not supported" "$share/plain-$model.txt" ||
		fail "without --targets the discovery calls must be unsupported on $model"
	# --dump-dtb: the guest's device tree, with the nodes a guest needs.
	dts=$(dtc -q -I dtb -O dts "$share/guest-$model.dtb") || fail "--dump-dtb on $model wrote no valid device tree"
	for node in memory@40000000 cpu@0 arm,gic-v3 arm,armv8-timer arm,psci-1.0 bootargs; do
		grep -qF -- "$node" <<<"$dts" || fail "the device tree dumped on $model lacks $node"
	done
	python3 - "$share/targets.json" "$share/guest-$model.txt" "$model" <<'PY'
import json, re, sys
targets = json.load(open(sys.argv[1]))
seen = dict(re.findall(r"targets-guest: (\w+)=(0x[0-9a-f]+)", open(sys.argv[2]).read()))
text = open(sys.argv[2]).read()
want = {"MIDR_EL1": targets["guest"]["midr"], "REVIDR_EL1": targets["guest"]["revidr"], "AIDR_EL1": targets["guest"]["aidr"]}
want.update({k: v for k, v in targets["id_registers"].items() if k in seen})
# Beyond the ID registers: the read-only fields of the GIC CPU interface, and the counter frequency.
want["CNTFRQ_EL0"] = hex(targets["compat"]["cntfrq"])
if "ICC_CTLR_EL1" in seen:
    seen["ICC_CTLR_EL1"] = hex(int(seen["ICC_CTLR_EL1"], 16) & 0xcff00)
want["ICC_CTLR_EL1"] = targets["compat"]["icc_ctlr_el1"]
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

step "neoverse-n1 is refused, with every problem in one report"
try lab --cpu neoverse-n1 -- roam run --targets /share/targets.json -k /opt/roam/guests/hello.bin >"$share/n1.txt" 2>&1
cat "$share/n1.txt"
[ $status = 1 ] || fail "roam on neoverse-n1 exited $status, expected 1"
grep -q "^roam: this host cannot present the CPU of /share/targets.json: [0-9]* problems; the check says:$" "$share/n1.txt" ||
	fail "the refusal on neoverse-n1 does not start with one line counting the problems"
grep -q "^error host-not-in-targets   this host (MIDR 0x414fd0c1, REVIDR 0x0) is not one of the targets (cortex-a57, cortex-a72)" "$share/n1.txt" ||
	fail "the refusal on neoverse-n1 does not name the host MIDR and the targets"
grep -q "^error reg-not-writable      ID_AA64PFR0_EL1.FP: " "$share/n1.txt" ||
	fail "the refusal on neoverse-n1 does not list the register problems with the host problem"

step "max + cortex-a57 cannot be merged: the counter frequencies, and every other problem"
try "${roam[@]}" targets merge "$share/max.json" "$share/cortex-a57.json" -o "$share/max-a57.json" 2>"$share/merge-max.txt"
cat "$share/merge-max.txt"
[ $status = 1 ] || fail "the merge of max and cortex-a57 exited $status, expected 1"
[ ! -e "$share/max-a57.json" ] || fail "a refused merge wrote its output"
grep -q "^roam: targets merge: the counter frequency (CNTFRQ_EL0) differs: max 1000000000 Hz, cortex-a57 62500000 Hz; " "$share/merge-max.txt" ||
	fail "the merge refusal does not name both counter frequencies"
[ "$(grep -c '^roam: targets merge: ' "$share/merge-max.txt")" -gt 1 ] ||
	fail "the merge refusal does not list its other problems"
grep -q "more problem" "$share/merge-max.txt" && fail "the merge refusal summarizes instead of listing every problem"

step "cortex-a57: a config whose GIC, PMU and frequency do not fit is refused at once; lowered GIC bits run"
python3 - "$share/targets.json" "$share/misfit.json" "$share/lowered.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
bad = json.loads(json.dumps(t))
bad["compat"].update(icc_ctlr_el1=hex(int(t["compat"]["icc_ctlr_el1"], 0) ^ 0xc000), pmu_counters=31,
                     cntfrq=2 * t["compat"]["cntfrq"])
json.dump(bad, open(sys.argv[2], "w"), indent=2)
icc = int(t["compat"]["icc_ctlr_el1"], 0)
t["compat"]["icc_ctlr_el1"] = hex(icc & ~0x3f00 | 0x300)  # 4 priority bits, 16-bit IDs
json.dump(t, open(sys.argv[3], "w"), indent=2)
PY
lab --cpu cortex-a57 -- sh -c 'roam run --targets /share/misfit.json -k /opt/roam/guests/hello.bin >/share/misfit.txt 2>&1
echo "misfit exit $?" >>/share/misfit.txt
roam run --targets /share/lowered.json -k /opt/roam/guests/targets.bin >/share/lowered.txt 2>&1
echo "lowered exit $?" >>/share/lowered.txt
roam run --dry-run --targets /share/targets.json --dump-dtb /share/dry.dtb -k /opt/roam/guests/hello.bin >/share/dry.txt 2>&1
echo "dry exit $?" >>/share/dry.txt'
cat "$share/misfit.txt"
grep -q "^misfit exit 1$" "$share/misfit.txt" || fail "the misfit config did not make roam exit 1"
grep -q "^roam: this host cannot present the CPU of /share/misfit.json: 3 problems; the check says:$" "$share/misfit.txt" ||
	fail "the misfit config was not refused with its 3 problems counted on one line"
for code in cntfrq-differs gic-cpuif pmu-counters; do
	grep -q "^error $code " "$share/misfit.txt" || fail "the refusal of the misfit config does not list $code"
done
grep -q "^lowered exit 0$" "$share/lowered.txt" || { cat "$share/lowered.txt"; fail "the lowered GIC config did not run"; }
# --dry-run: everything set up (targets applied, device tree written), the guest never runs.
grep -q "^dry exit 0$" "$share/dry.txt" && grep -q "^roam: --dry-run: the VM is set up (1 vCPUs, 256 MiB" "$share/dry.txt" ||
	{ cat "$share/dry.txt"; fail "--dry-run did not set the VM up and exit 0"; }
grep -q "hello from roam guest" "$share/dry.txt" && fail "--dry-run ran the guest"
dtc -q -I dtb -O dts "$share/dry.dtb" | grep -q "arm,gic-v3" || fail "--dry-run --dump-dtb wrote no device tree"
echo "targets_flow: passed"
