/* The read-only fields of ICC_CTLR_EL1: see gic_cpuif.h. */
#include "gic_cpuif.h"

#include <stdio.h>

#define PRI_SHIFT 8
#define ID_SHIFT 11
#define SEIS_BIT (1ull << 14)
#define A3V_BIT (1ull << 15)
#define RSS_BIT (1ull << 18)
#define EXT_RANGE_BIT (1ull << 19)

struct arm64_gic_cpuif arm64_gic_cpuif_decode(uint64_t v)
{
	struct arm64_gic_cpuif f = {
	    .pri_bits = (unsigned)((v >> PRI_SHIFT) & 7) + 1,
	    .id_bits = ((v >> ID_SHIFT) & 7) ? 24 : 16,
	    .seis = v & SEIS_BIT,
	    .a3v = v & A3V_BIT,
	    .rss = v & RSS_BIT,
	    .ext_range = v & EXT_RANGE_BIT,
	};
	return f;
}

char *arm64_gic_cpuif_text(uint64_t v, char *buf, size_t size)
{
	struct arm64_gic_cpuif f = arm64_gic_cpuif_decode(v);
	snprintf(buf, size, "%u priority bits, %u-bit IDs, SEIS %d, A3V %d", f.pri_bits, f.id_bits, f.seis, f.a3v);
	return buf;
}

static uint64_t min_field(uint64_t a, uint64_t b, unsigned shift)
{
	uint64_t x = (a >> shift) & 7, y = (b >> shift) & 7;
	return (x < y ? x : y) << shift;
}

uint64_t arm64_gic_cpuif_merge(uint64_t a, uint64_t b, uint64_t *mismatch)
{
	*mismatch = (a ^ b) & (SEIS_BIT | A3V_BIT);
	return min_field(a, b, PRI_SHIFT) | min_field(a, b, ID_SHIFT) | (a & (SEIS_BIT | A3V_BIT)) |
	       (a & b & (RSS_BIT | EXT_RANGE_BIT));
}

void arm64_gic_cpuif_problem(const char *who, const char *whose, uint64_t guest, uint64_t host, char *buf, size_t size)
{
	struct arm64_gic_cpuif g = arm64_gic_cpuif_decode(guest), h = arm64_gic_cpuif_decode(host);
	buf[0] = '\0';
	if (g.pri_bits <= h.pri_bits && g.id_bits <= h.id_bits && g.seis == h.seis && g.a3v == h.a3v)
		return;
	char gt[96], ht[96];
	snprintf(buf, size,
		 "%s: %s GIC has %s, this host's %s: KVM takes a GIC CPU interface only with as many priority and "
		 "ID bits or fewer, and the same SEIS and A3V",
		 who, whose, arm64_gic_cpuif_text(guest, gt, sizeof(gt)), arm64_gic_cpuif_text(host, ht, sizeof(ht)));
}
