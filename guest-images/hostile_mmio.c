/*
 * hostile_mmio: a guest that writes where it must not and touches addresses where nothing is (docs/security.md),
 * driven by tests/lab/hostile.sh with `roam run -m 128 -c 2`:
 *   - 10,000 stores of every size into the PV-lock region (read-only to the guest): both vCPUs' structs, their
 *     reserved bytes and the unused rest of the region. Every flag must still read 0 or 1 and everything else 0.
 *   - 10,000 loads and stores at addresses where no device is: below the first device, between devices, in a free
 *     virtio slot, just below RAM and past the end of RAM. Loads must return 0.
 * roam reports each kind a bounded number of times ("further reports suppressed") and the guest ends with DONE.
 *
 * Built a second time as hostile_nisv (HOSTILE_NISV): it only makes a load pair from an address outside RAM, an
 * access KVM cannot emulate (no syndrome): roam must stop the VM with one line saying so, and exit 1.
 */
#include "guest.h"

#include "arch/arm64/layout.h"

#define RAM_MIB 128 /* the test runs roam with -m 128 */
#define RAM_END (ARM64_RAM_BASE + ((uint64_t)RAM_MIB << 20))
#define ROUNDS 10000

#ifndef HOSTILE_NISV
static uint64_t rand_state = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rand_state ^= rand_state << 13;
	rand_state ^= rand_state >> 7;
	rand_state ^= rand_state << 17;
	return rand_state;
}

static void store(uint64_t addr, unsigned size, uint64_t v)
{
	switch (size) {
	case 1:
		mmio_write8(addr, (uint8_t)v);
		break;
	case 2:
		mmio_write16(addr & ~1ull, (uint16_t)v);
		break;
	case 4:
		mmio_write32(addr & ~3ull, (uint32_t)v);
		break;
	default:
		mmio_write64(addr & ~7ull, v);
		break;
	}
}

static uint64_t load(uint64_t addr, unsigned size)
{
	switch (size) {
	case 1:
		return mmio_read8(addr);
	case 4:
		return mmio_read32(addr & ~3ull);
	default:
		return mmio_read64(addr & ~7ull);
	}
}

static void pvlock_writes(void)
{
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t r = next_rand();
		/* Mostly the two structs (flags and reserved bytes), sometimes anywhere in the 64 KiB region. */
		uint64_t off = (r & 0x100) ? (r >> 16) % ARM64_PVLOCK_SIZE : (r >> 16) % 128;
		if (off >= 0x10000)
			off %= 0x10000;
		store(ARM64_PVLOCK_BASE + off, 1u << (r & 3), ~0ull);
	}
	const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)ARM64_PVLOCK_BASE;
	for (int cpu = 0; cpu < 2; cpu++) {
		uint64_t flag = *(const volatile uint64_t *)(p + 64 * cpu);
		if (flag > 1)
			GUEST_ABORT("vCPU %d's PV-lock flag reads 0x%llx", cpu, (unsigned long long)flag);
	}
	for (int i = 0; i < 0x10000; i++)
		if ((i % 64 >= 8 || i >= 128) && p[i])
			GUEST_ABORT("byte 0x%x of the PV-lock region reads 0x%x", i, p[i]);
	guest_printf("hostile-mmio: %d stores into the PV-lock region: nothing changed\n", ROUNDS);
}

static void unmapped(void)
{
	static const uint64_t where[] = {
	    0x1000, /* below every device */
	    ARM64_UART_BASE + ARM64_UART_SIZE + 0x100, /* between the UART and the ucall window */
	    ARM64_PVLOCK_BASE + ARM64_PVLOCK_SIZE, /* just after the PV-lock region */
	    ARM64_VIRTIO_BASE + ARM64_VIRTIO_SIZE - 0x200, /* the last virtio slot, empty */
	    ARM64_VIRTIO_BASE + ARM64_VIRTIO_SIZE + 0x1000, /* after the virtio window */
	    ARM64_RAM_BASE - 0x1000, /* just below RAM */
	    RAM_END, /* just past RAM */
	    RAM_END + 0x40000000ull, /* far past RAM */
	};
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t r = next_rand();
		uint64_t addr = where[r % (sizeof(where) / sizeof(where[0]))] + ((r >> 8) & 0xff8);
		unsigned size = (r >> 20) & 1 ? 4 : 8;
		if ((r >> 24) & 1) {
			store(addr, size, r);
		} else {
			uint64_t v = load(addr, size);
			if (v)
				GUEST_ABORT("a load at 0x%llx where nothing is read 0x%llx", (unsigned long long)addr,
					    (unsigned long long)v);
		}
	}
	guest_printf("hostile-mmio: %d loads and stores where nothing is mapped: loads read 0\n", ROUNDS);
}

#endif

static void spin(unsigned int cpu)
{
	(void)cpu;
	for (;;)
		cpu_relax();
}

void guest_main(uint64_t dtb)
{
	(void)dtb;
	GUEST_ASSERT_EQ(guest_smp_start(spin), 2); /* a second struct in the PV-lock region */
#ifdef HOSTILE_NISV
	uint64_t a, b;
	guest_printf("hostile-mmio: a load pair from 0x%llx, which KVM cannot emulate\n", (unsigned long long)RAM_END);
	__asm__ volatile("ldp %0, %1, [%2]" : "=r"(a), "=r"(b) : "r"(RAM_END) : "memory");
	GUEST_ABORT("the load pair from outside RAM returned 0x%llx 0x%llx", (unsigned long long)a,
		    (unsigned long long)b);
#else
	pvlock_writes();
	unmapped();
	GUEST_DONE();
#endif
}
