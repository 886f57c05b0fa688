/*
 * The fake arm64 KVM's VM ioctls (test_arm64_fakekvm.h): capabilities, vCPUs, memory slots, the GIC's creation,
 * interrupt lines, irqfds and ioeventfds, the SMCCC filter, the counter offset and the writable ID register masks.
 */
#include "test_arm64_fakekvm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* KVM_CHECK_EXTENSION's answers, on /dev/kvm and on a VM alike. */
long fakekvm_cap(long cap)
{
	for (int i = 0; i < FAKEKVM_MAX_KNOBS; i++)
		if (fakekvm.host.missing_caps[i] == cap)
			return 0;
	switch (cap) {
	case KVM_CAP_ONE_REG:
	case KVM_CAP_DEVICE_CTRL:
	case KVM_CAP_ARM_PSCI_0_2:
	case KVM_CAP_USER_MEMORY:
	case KVM_CAP_ARM_NISV_TO_USER:
	case KVM_CAP_COUNTER_OFFSET:
	case KVM_CAP_ARM_WRITABLE_IMP_ID_REGS:
		return 1;
	case KVM_CAP_ARM_VM_IPA_SIZE:
		return fakekvm.host.max_ipa_bits;
	case KVM_CAP_MAX_VCPUS:
	case KVM_CAP_NR_VCPUS:
		return FAKEKVM_MAX_VCPUS;
	case KVM_CAP_ARM_SUPPORTED_REG_MASK_RANGES:
		return 1 << KVM_ARM_FEATURE_ID_RANGE;
	case KVM_CAP_ARM_SVE: /* features the fake host does not have */
	case KVM_CAP_ARM_PTRAUTH_ADDRESS:
	case KVM_CAP_ARM_PTRAUTH_GENERIC:
	case KVM_CAP_ARM_MTE:
	case KVM_CAP_ARM_PMU_V3:
	case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2:
		return 0;
	default:
		return fakekvm_refuse("KVM_CHECK_EXTENSION(%ld): a capability it does not model", cap);
	}
}

static long create_vcpu(struct fakekvm_vm *vm, long id)
{
	if (id < 0 || id >= FAKEKVM_MAX_VCPUS || vm->nr_vcpus == FAKEKVM_MAX_VCPUS)
		return -EINVAL;
	if (vm->gic.initialized)
		return -EBUSY; /* the vGIC sized itself for the vCPUs it found */
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].id == id)
			return -EEXIST;
	struct fakekvm_vcpu *c = &vm->vcpus[vm->nr_vcpus];
	memset(c, 0, sizeof(*c));
	int fd = fakekvm_new_fd("fake-vcpu", &c->ino);
	if (fd < 0)
		return fd;
	void *run = mmap(NULL, FAKEKVM_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (run == MAP_FAILED) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->id = (int)id;
	c->run = run;
	vm->nr_vcpus++;
	fakekvm_vcpu_create(vm, c);
	return fd;
}

static long set_memory(struct fakekvm_vm *vm, const struct kvm_userspace_memory_region *r)
{
	if (r->slot >= FAKEKVM_MAX_SLOTS || (r->flags & ~(uint32_t)(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)))
		return -EINVAL;
	struct fakekvm_slot *s = &vm->slots[r->slot];
	if (r->memory_size == 0) {
		free(s->stage2);
		memset(s, 0, sizeof(*s));
		return 0;
	}
	if ((r->guest_phys_addr | r->memory_size | r->userspace_addr) & (FAKEKVM_PAGE - 1) ||
	    r->guest_phys_addr + r->memory_size > 1ull << vm->ipa_bits)
		return -EINVAL;
	if (s->region.memory_size) { /* an existing slot may change its flags, not move */
		if (s->region.guest_phys_addr != r->guest_phys_addr || s->region.memory_size != r->memory_size)
			return -EINVAL;
		s->region.flags = r->flags;
		return 0;
	}
	for (int i = 0; i < FAKEKVM_MAX_SLOTS; i++) {
		const struct kvm_userspace_memory_region *o = &vm->slots[i].region;
		if (o->memory_size && r->guest_phys_addr < o->guest_phys_addr + o->memory_size &&
		    o->guest_phys_addr < r->guest_phys_addr + r->memory_size)
			return -EEXIST;
	}
	s->stage2 = calloc(r->memory_size / FAKEKVM_PAGE, 1);
	if (!s->stage2)
		return -ENOMEM;
	s->region = *r;
	return 0;
}

/* The VM's device attributes: only the SMCCC filter, which forwards hypercalls to roam. */
static long vm_attr(struct fakekvm_vm *vm, unsigned long request, const struct kvm_device_attr *a)
{
	if (a->group != KVM_ARM_VM_SMCCC_CTRL || a->attr != KVM_ARM_VM_SMCCC_FILTER)
		return -ENXIO;
	if (request == KVM_HAS_DEVICE_ATTR)
		return 0;
	if (request != KVM_SET_DEVICE_ATTR)
		return fakekvm_refuse("KVM_GET_DEVICE_ATTR of the SMCCC filter: KVM has no such thing");
	const struct kvm_smccc_filter *f = (const void *)(uintptr_t)a->addr;
	for (size_t i = 0; i < sizeof(f->pad); i++)
		if (f->pad[i])
			return -EINVAL;
	if (!f->nr_functions || f->action > KVM_SMCCC_FILTER_FWD_TO_USER)
		return -EINVAL;
	if (vm->ran)
		return -EBUSY;
	for (int i = 0; i < vm->nr_filters; i++)
		if (f->base < vm->filters[i].base + vm->filters[i].nr_functions &&
		    vm->filters[i].base < f->base + f->nr_functions)
			return -EEXIST;
	if (vm->nr_filters == FAKEKVM_MAX_FILTERS)
		return fakekvm_refuse("more than %d SMCCC filter ranges", FAKEKVM_MAX_FILTERS);
	vm->filters[vm->nr_filters++] = *f;
	return 0;
}

/* The writable masks of the ID register range, as KVM_ARM_GET_REG_WRITABLE_MASKS gives them. */
static long writable_masks(const struct reg_mask_range *range)
{
	for (int i = 0; i < 13; i++)
		if (range->reserved[i])
			return -EINVAL;
	if (range->range != KVM_ARM_FEATURE_ID_RANGE)
		return -EINVAL;
	uint64_t *masks = (uint64_t *)(uintptr_t)range->addr;
	memset(masks, 0, KVM_ARM_FEATURE_ID_RANGE_SIZE * sizeof(uint64_t));
	for (uint32_t op1 = 0; op1 < 8; op1++)
		for (uint32_t crm = 0; crm < 8; crm++)
			for (uint32_t op2 = 0; op2 < 8; op2++) {
				uint64_t value, writable;
				if ((op1 == 0 || op1 == 1 || op1 == 3) &&
				    fakekvm_idreg_host(ARM64_SYS_REG(3, op1, 0, crm, op2), &value, &writable))
					masks[KVM_ARM_FEATURE_ID_RANGE_IDX(3, op1, 0, crm, op2)] = writable;
			}
	return 0;
}

long fakekvm_vm_ioctl(struct fakekvm_vm *vm, unsigned long request, void *arg)
{
	switch (request) {
	case KVM_CHECK_EXTENSION:
		return fakekvm_cap((long)arg);
	case KVM_ENABLE_CAP: {
		const struct kvm_enable_cap *cap = arg;
		if (cap->flags)
			return -EINVAL;
		if (cap->cap == KVM_CAP_ARM_NISV_TO_USER)
			return vm->nisv_to_user = true, 0;
		if (cap->cap != KVM_CAP_ARM_WRITABLE_IMP_ID_REGS)
			return fakekvm_refuse("KVM_ENABLE_CAP(%u): a capability it does not model", cap->cap);
		if (vm->nr_vcpus)
			return -EINVAL; /* only before the first vCPU */
		return vm->writable_imp_regs = true, 0;
	}
	case KVM_CREATE_VCPU:
		return create_vcpu(vm, (long)arg);
	case KVM_ARM_PREFERRED_TARGET: {
		struct kvm_vcpu_init *init = arg;
		memset(init, 0, sizeof(*init));
		init->target = KVM_ARM_TARGET_GENERIC_V8;
		return 0;
	}
	case KVM_SET_USER_MEMORY_REGION:
		return set_memory(vm, arg);
	case KVM_CREATE_DEVICE:
		return fakekvm_gic_create(vm, arg);
	case KVM_IRQ_LINE: {
		const struct kvm_irq_level *l = arg;
		uint32_t type = (l->irq >> KVM_ARM_IRQ_TYPE_SHIFT) & KVM_ARM_IRQ_TYPE_MASK;
		uint32_t intid = l->irq & KVM_ARM_IRQ_NUM_MASK;
		if (type != KVM_ARM_IRQ_TYPE_SPI)
			return fakekvm_refuse("KVM_IRQ_LINE of type %u: only SPIs are modelled", type);
		if (vm->gic.fd < 0)
			return -ENXIO;
		if (intid < 32 || intid >= vm->gic.nr_irqs)
			return -EINVAL;
		vm->spi_level[intid] = l->level != 0;
		return 0;
	}
	case KVM_IRQFD: {
		const struct kvm_irqfd *f = arg;
		if (f->flags & ~(uint32_t)KVM_IRQFD_FLAG_DEASSIGN)
			return fakekvm_refuse("KVM_IRQFD with flags %#x", f->flags);
		if (f->gsi + 32 >= vm->gic.nr_irqs && !(f->flags & KVM_IRQFD_FLAG_DEASSIGN))
			return -EINVAL; /* the default routing: GSI n is SPI n */
		vm->irqfds += f->flags & KVM_IRQFD_FLAG_DEASSIGN ? -1 : 1;
		return 0;
	}
	case KVM_IOEVENTFD: {
		const struct kvm_ioeventfd *io = arg;
		if (io->flags & ~(uint32_t)(KVM_IOEVENTFD_FLAG_DATAMATCH | KVM_IOEVENTFD_FLAG_DEASSIGN))
			return fakekvm_refuse("KVM_IOEVENTFD with flags %#x", io->flags);
		if (io->len != 0 && io->len != 1 && io->len != 2 && io->len != 4 && io->len != 8)
			return -EINVAL;
		vm->ioeventfds += io->flags & KVM_IOEVENTFD_FLAG_DEASSIGN ? -1 : 1;
		return 0;
	}
	case KVM_HAS_DEVICE_ATTR:
	case KVM_SET_DEVICE_ATTR:
	case KVM_GET_DEVICE_ATTR:
		return vm_attr(vm, request, arg);
	case KVM_ARM_SET_COUNTER_OFFSET: {
		const struct kvm_arm_counter_offset *off = arg;
		if (off->reserved)
			return -EINVAL;
		vm->voffset = vm->poffset = off->counter_offset;
		vm->counter_offset_set = true;
		return 0;
	}
	case KVM_ARM_GET_REG_WRITABLE_MASKS:
		return writable_masks(arg);
	default:
		return fakekvm_refuse("request %#lx on a VM is not modelled", request);
	}
}
