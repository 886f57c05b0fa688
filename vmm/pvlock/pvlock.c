/*
 * The PV-lock region and flag maintenance: see pvlock.h. Scheduler tracking lives in pvlock_sched.c.
 */
#include "pvlock.h"

#include "arch.h"
#include "core/log.h"
#include "core/vm.h"
#include "hypercalls/pvlock.h"
#include "pvlock_sched.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PVLOCK_WRITE_REPORT_LIMIT 8

static volatile uint64_t *pvlock_slot(const struct pvlock *pv, int id)
{
	return (volatile uint64_t *)(pv->host + (size_t)id * PVLOCK_STRUCT_SIZE);
}

/* Recomputes vCPU `id`'s flag from its state; called with the vCPU's lock held. */
static void pvlock_update(struct pvlock *pv, int id)
{
	struct pvlock_vcpu *v = &pv->vcpus[id];
	uint64_t value = (!v->in_run || v->descheduled) ? 1 : 0;
	volatile uint64_t *slot = pvlock_slot(pv, id);
	if (value && !le64toh(*slot))
		atomic_fetch_add(&v->flag_sets, 1);
	/* A store-release: whatever roam wrote before (e.g. state a waiter may inspect) is visible first. */
	__atomic_store_n(slot, htole64(value), __ATOMIC_RELEASE);
}

uint64_t pvlock_flag(const struct pvlock *pv, int id)
{
	return le64toh(__atomic_load_n(pvlock_slot(pv, id), __ATOMIC_ACQUIRE));
}

/* Guest writes to the read-only region trap here: report, ignore. */
static int pvlock_guest_write(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct pvlock *pv = opaque;
	if (!is_write) {
		memset(data, 0, len); /* reads never trap: the slot is readable memory */
		return 0;
	}
	/* vCPUs store concurrently: each report takes a number, and only the first ones are made. */
	unsigned nth = atomic_fetch_add(&pv->guest_write_reports, 1) + 1;
	if (nth <= PVLOCK_WRITE_REPORT_LIMIT)
		log_info(
		    "the guest wrote %u bytes at offset %#llx of the PV-lock region (vCPU %llu's struct); ignored: the "
		    "region is read-only to the guest%s",
		    len, (unsigned long long)offset, (unsigned long long)(offset / PVLOCK_STRUCT_SIZE),
		    nth == PVLOCK_WRITE_REPORT_LIMIT ? " (further reports suppressed)" : "");
	else
		atomic_store(&pv->guest_write_reports, PVLOCK_WRITE_REPORT_LIMIT); /* no wrap-around, however many */
	return 0;
}

int pvlock_create(struct vm *vm, struct pvlock **out)
{
	const struct vm_region_info *region = arch_region(VM_REGION_PVLOCK);
	int nr = vm->cfg.nr_vcpus;
	uint64_t size = pvlock_region_size(nr);
	if (size > region->size)
		return log_errno(-EINVAL, "--cpus %d: the PV-lock region holds at most %llu vCPUs", nr,
				 (unsigned long long)(region->size / PVLOCK_STRUCT_SIZE));
	struct pvlock *pv = calloc(1, sizeof(*pv));
	if (!pv)
		return -ENOMEM;
	pv->vcpus = calloc((size_t)nr, sizeof(*pv->vcpus));
	if (!pv->vcpus) {
		free(pv);
		return -ENOMEM;
	}
	pv->vm = vm;
	pv->gpa = region->base;
	pv->size = size;
	pv->nr_vcpus = nr;
	for (int i = 0; i < nr; i++)
		pthread_mutex_init(&pv->vcpus[i].lock, NULL);
	int slot = memory_add_slot(&vm->mem, "pvlock", pv->gpa, size, true);
	int ret = slot < 0 ? slot : bus_insert(&vm->mmio, pv->gpa, size, "pvlock", pvlock_guest_write, pv);
	if (ret < 0) {
		pvlock_destroy(pv);
		return ret;
	}
	pv->host = vm->mem.slots[slot].host;
	for (int i = 0; i < nr; i++)
		pvlock_update(pv, i);
	*out = pv;
	return 0;
}

void pvlock_start_tracking(struct pvlock *pv)
{
	pv->sched = pvlock_sched_start(pv);
}

void pvlock_vcpu_thread_init(struct pvlock *pv, int id)
{
	if (pv->sched)
		pvlock_sched_add_self(pv->sched, id);
}

void pvlock_vcpu_enter(struct pvlock *pv, int id)
{
	struct pvlock_vcpu *v = &pv->vcpus[id];
	pthread_mutex_lock(&v->lock);
	v->in_run = true;
	v->descheduled = false; /* this thread is running right now, whatever the tracker has not processed yet */
	pvlock_update(pv, id);
	pthread_mutex_unlock(&v->lock);
}

void pvlock_vcpu_leave(struct pvlock *pv, int id)
{
	struct pvlock_vcpu *v = &pv->vcpus[id];
	pthread_mutex_lock(&v->lock);
	v->in_run = false;
	pvlock_update(pv, id);
	pthread_mutex_unlock(&v->lock);
}

void pvlock_vcpu_scheduled(struct pvlock *pv, int id, bool out)
{
	struct pvlock_vcpu *v = &pv->vcpus[id];
	pthread_mutex_lock(&v->lock);
	v->descheduled = out;
	pvlock_update(pv, id);
	pthread_mutex_unlock(&v->lock);
}

void pvlock_get_stats(const struct pvlock *pv, struct pvlock_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (pv->sched)
		pvlock_sched_stats(pv->sched, st);
}

void pvlock_destroy(struct pvlock *pv)
{
	if (!pv)
		return;
	pvlock_sched_stop(pv->sched);
	for (int i = 0; i < pv->nr_vcpus; i++)
		pthread_mutex_destroy(&pv->vcpus[i].lock);
	free(pv->vcpus);
	free(pv);
}
