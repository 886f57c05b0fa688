/* The CSR list and ONE_REG ids: see csr.h. */
#include "csr.h"

#include <stdio.h>

/* KVM_REG_LOONGARCH | KVM_REG_SIZE_U64 and the register sets (values from the uapi headers, checked by the test). */
#define REG_LOONGARCH_U64 0x9030000000000000ull
#define REG_SET_CSR 0x10000ull
#define REG_SET_CPUCFG 0x40000ull

static const struct loongarch_csr_desc loongarch_csrs[] = {
    {0x0, "CRMD"},	{0x1, "PRMD"},	    {0x2, "EUEN"},	 {0x3, "MISC"},	     {0x4, "ECFG"},
    {0x5, "ESTAT"},	{0x6, "ERA"},	    {0x7, "BADV"},	 {0x8, "BADI"},	     {0xc, "EENTRY"},
    {0x10, "TLBIDX"},	{0x11, "TLBEHI"},   {0x12, "TLBELO0"},	 {0x13, "TLBELO1"},  {0x18, "ASID"},
    {0x19, "PGDL"},	{0x1a, "PGDH"},	    {0x1c, "PWCTL0"},	 {0x1d, "PWCTL1"},   {0x1e, "STLBPGSIZE"},
    {0x1f, "RVACFG"},	{0x20, "CPUID"},    {0x30, "KS0"},	 {0x31, "KS1"},	     {0x32, "KS2"},
    {0x33, "KS3"},	{0x34, "KS4"},	    {0x35, "KS5"},	 {0x36, "KS6"},	     {0x37, "KS7"},
    {0x40, "TMID"},	{0x60, "LLBCTL"},   {0x88, "TLBRENTRY"}, {0x89, "TLBRBADV"}, {0x8a, "TLBRERA"},
    {0x8b, "TLBRSAVE"}, {0x8c, "TLBRELO0"}, {0x8d, "TLBRELO1"},	 {0x8e, "TLBREHI"},  {0x8f, "TLBRPRMD"},
    {0x180, "DMW0"},	{0x181, "DMW1"},    {0x182, "DMW2"},	 {0x183, "DMW3"},    {0x43, "CNTC"},
    {0x41, "TCFG"},	{0x42, "TVAL"},
};

int loongarch_csr_count(void)
{
	return (int)(sizeof(loongarch_csrs) / sizeof(loongarch_csrs[0]));
}

const struct loongarch_csr_desc *loongarch_csr_at(int i)
{
	return &loongarch_csrs[i];
}

int loongarch_csr_index(uint16_t num)
{
	for (int i = 0; i < loongarch_csr_count(); i++)
		if (loongarch_csrs[i].num == num)
			return i;
	return -1;
}

const char *loongarch_csr_name(uint16_t num, char buf[16])
{
	int i = loongarch_csr_index(num);
	if (i >= 0)
		return loongarch_csrs[i].name;
	snprintf(buf, 16, "CSR %#x", (unsigned)num);
	return buf;
}

uint64_t loongarch_csr_reg_id(uint16_t num)
{
	return REG_LOONGARCH_U64 | REG_SET_CSR | ((uint64_t)num << 3);
}

uint64_t loongarch_cpucfg_reg_id(uint32_t index)
{
	return REG_LOONGARCH_U64 | REG_SET_CPUCFG | ((uint64_t)index << 3);
}
