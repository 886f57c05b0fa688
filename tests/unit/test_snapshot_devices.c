/*
 * Unit test of the device record in the snapshot's VM section (vmm/snapshot/snapshot_meta.c) and of the device
 * options it records (vmm/core/device_options.c): a version-3 round trip of the options as given, version 2's typed
 * record (disks, NICs, rng, console) read into the same options, the options as `roam run` options (escaped, cut
 * short), every truncation and an over-long count refused without writing past the config's arrays.
 */
#include "check.h"
#include "core/device_options.h"
#include "core/vm.h"
#include "snapshot/snap_codec.h"
#include "snapshot/snapshot_meta.h"

#include <stdlib.h>
#include <string.h>

static void add(struct vm_config *cfg, const char *name, const char *value)
{
	struct vm_device_option *o = &cfg->device_options[cfg->nr_device_options++];
	strcpy(o->name, name);
	strcpy(o->value, value);
}

static void test_v3(struct vm_config *in, struct vm_config *out)
{
	add(in, "disk", "/shared/root.img");
	add(in, "disk", "/shared/data.img,ro");
	add(in, "net", "tap=tap7,mac=52:54:00:12:34:56");
	add(in, "rng", "");
	add(in, "console", "virtio");

	/* As roam run options (the restore's message, snapshot-info's devices line), cut short to fit. */
	char text[160];
	device_options_format(in, text, sizeof(text));
	CHECK_CONTAINS(text, " --disk /shared/root.img --disk /shared/data.img,ro --net tap=tap7,mac=52:54:00:12:34:56 "
			     "--rng --console virtio");
	device_options_format(in, text, 10);
	CHECK(strlen(text) < 10);
	device_options_format(out, text, sizeof(text));
	CHECK_EQ(text[0], 0);
	CHECK_EQ(device_option_count(in, "disk"), 2);
	CHECK(!strcmp(device_option_value(in, "disk", 1), "/shared/data.img,ro"));
	CHECK(device_option_value(in, "disk", 2) == NULL);

	struct snap_writer w;
	snap_writer_init(&w);
	snapshot_vm_devices_encode(&w, in);
	CHECK_EQ(w.err, 0);
	struct snap_reader r;
	snap_reader_init(&r, w.buf, w.len);
	snapshot_vm_devices_decode(&r, out, 3);
	CHECK_EQ(r.err, 0);
	CHECK(snap_reader_done(&r));
	CHECK_EQ(out->nr_device_options, 5);
	for (int i = 0; i < 5; i++)
		CHECK(!strcmp(out->device_options[i].name, in->device_options[i].name) &&
		      !strcmp(out->device_options[i].value, in->device_options[i].value));

	/* Every truncation is an error, never a crash. */
	for (size_t len = 0; len < w.len; len++) {
		memset(out, 0, sizeof(*out));
		snap_reader_init(&r, w.buf, len);
		snapshot_vm_devices_decode(&r, out, 3);
		CHECK(r.err != 0);
		CHECK_EQ(out->nr_device_options, 0);
	}
	snap_writer_fini(&w);

	/* A count beyond VM_MAX_DEVICE_OPTIONS is refused before any name is read. */
	uint8_t many[4] = {VM_MAX_DEVICE_OPTIONS + 1, 0, 0, 0};
	memset(out, 0, sizeof(*out));
	snap_reader_init(&r, many, sizeof(many));
	snapshot_vm_devices_decode(&r, out, 3);
	CHECK(r.err != 0);
	CHECK_EQ(out->nr_device_options, 0);

	/* Bytes that are not printable come out escaped. */
	memset(out, 0, sizeof(*out));
	add(out, "disk", "/a\033[2Jb\nc");
	device_options_format(out, text, sizeof(text));
	CHECK(!strcmp(text, " --disk /a\\x1b[2Jb\\x0ac"));
}

/* Version 2's typed record, as roam 0.1.0 (main 11cfa4c) wrote it. */
static void test_v2(struct vm_config *out)
{
	struct snap_writer w;
	snap_writer_init(&w);
	snap_put_u32(&w, 2);
	snap_put_blob(&w, "/shared/root.img", 16);
	snap_put_u8(&w, 0);
	snap_put_blob(&w, "/shared/data.img", 16);
	snap_put_u8(&w, 1);
	snap_put_u32(&w, 2);
	snap_put_blob(&w, "tap7", 4);
	snap_put_u8(&w, 1);
	snap_put_bytes(&w, "\x52\x54\x00\x12\x34\x56", 6);
	snap_put_blob(&w, "tap8", 4);
	snap_put_u8(&w, 0);
	snap_put_bytes(&w, "\0\0\0\0\0\0", 6);
	snap_put_u8(&w, 1);
	snap_put_u8(&w, 1);
	struct snap_reader r;
	memset(out, 0, sizeof(*out));
	snap_reader_init(&r, w.buf, w.len);
	snapshot_vm_devices_decode(&r, out, 2);
	CHECK_EQ(r.err, 0);
	CHECK(snap_reader_done(&r));
	char text[256];
	device_options_format(out, text, sizeof(text));
	CHECK(!strcmp(text, " --disk /shared/root.img --disk /shared/data.img,ro --net tap=tap7,mac=52:54:00:12:34:56 "
			    "--net tap=tap8 --rng --console virtio"));
	for (size_t len = 0; len < w.len; len++) {
		memset(out, 0, sizeof(*out));
		snap_reader_init(&r, w.buf, len);
		snapshot_vm_devices_decode(&r, out, 2);
		CHECK(r.err != 0);
	}
	snap_writer_fini(&w);
}

int main(void)
{
	struct vm_config *in = calloc(1, sizeof(*in)), *out = calloc(1, sizeof(*out));
	CHECK(in && out);
	test_v3(in, out);
	test_v2(out);
	free(in);
	free(out);
	return check_exit();
}
