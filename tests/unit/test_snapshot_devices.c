/*
 * Unit test of the device record in the snapshot's VM section (version 2, vmm/snapshot_meta.c): a round trip of
 * disks, NICs, rng and console, and every truncation and an over-long count refused without writing past the
 * config's arrays.
 */
#include "check.h"
#include "core/vm.h"
#include "snapshot/snap_codec.h"
#include "snapshot/snapshot_meta.h"

#include <stdlib.h>
#include <string.h>

int main(void)
{
	struct vm_config *in = calloc(1, sizeof(*in)), *out = calloc(1, sizeof(*out));
	CHECK(in && out);
	CHECK(!snapshot_vm_has_devices(in));
	in->nr_disks = 2;
	strcpy(in->disks[0].path, "/shared/root.img");
	strcpy(in->disks[1].path, "/shared/data.img");
	in->disks[1].readonly = true;
	in->nr_nics = 1;
	strcpy(in->nics[0].tap, "tap7");
	in->nics[0].mac_set = true;
	memcpy(in->nics[0].mac, "\x52\x54\x00\x12\x34\x56", 6);
	in->rng = true;
	in->console = VM_CONSOLE_VIRTIO;
	CHECK(snapshot_vm_has_devices(in));

	/* As roam run options (the restore's message, snapshot-info's devices line), cut short to fit. */
	char text[128];
	snapshot_vm_devices_format(in, text, sizeof(text));
	CHECK(
	    !strcmp(text, " --disk /shared/root.img --disk /shared/data.img,ro --net tap=tap7 --rng --console virtio"));
	snapshot_vm_devices_format(in, text, 10);
	CHECK(!strcmp(text, " --disk /")); /* 9 characters and the NUL */
	snapshot_vm_devices_format(out, text, sizeof(text));
	CHECK_EQ(text[0], 0);

	struct snap_writer w;
	snap_writer_init(&w);
	snapshot_vm_devices_encode(&w, in);
	CHECK_EQ(w.err, 0);
	struct snap_reader r;
	snap_reader_init(&r, w.buf, w.len);
	snapshot_vm_devices_decode(&r, out);
	CHECK_EQ(r.err, 0);
	CHECK(snap_reader_done(&r));
	CHECK_EQ(out->nr_disks, 2);
	CHECK(!strcmp(out->disks[0].path, "/shared/root.img") && !out->disks[0].readonly);
	CHECK(!strcmp(out->disks[1].path, "/shared/data.img") && out->disks[1].readonly);
	CHECK_EQ(out->nr_nics, 1);
	CHECK(!strcmp(out->nics[0].tap, "tap7") && out->nics[0].mac_set);
	CHECK(!memcmp(out->nics[0].mac, in->nics[0].mac, 6));
	CHECK(out->rng);
	CHECK_EQ(out->console, VM_CONSOLE_VIRTIO);

	/* Every truncation is an error, never a crash. */
	for (size_t len = 0; len < w.len; len++) {
		memset(out, 0, sizeof(*out));
		snap_reader_init(&r, w.buf, len);
		snapshot_vm_devices_decode(&r, out);
		CHECK(r.err != 0);
	}

	/* A disk count beyond VM_MAX_DISKS is refused before any path is read. */
	uint8_t many[4] = {VM_MAX_DISKS + 1, 0, 0, 0};
	memset(out, 0, sizeof(*out));
	snap_reader_init(&r, many, sizeof(many));
	snapshot_vm_devices_decode(&r, out);
	CHECK(r.err != 0);
	CHECK_EQ(out->nr_disks, 0);

	snap_writer_fini(&w);
	free(in);
	free(out);
	return check_exit();
}
