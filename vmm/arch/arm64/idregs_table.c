/*
 * The data behind idregs.h: every ID register roam knows by name, with the fields of the feature registers and the
 * rule that merges each field across hosts. Layouts are the Arm ARM's (as in Linux's arch/arm64/tools/sysreg).
 * Fields are unsigned 4-bit LOWER_SAFE unless marked; the exceptions and why:
 *  - SIGNED_LOWER_SAFE where the architecture defines the field as signed, 0xF meaning "not implemented":
 *    ID_AA64PFR0.FP/AdvSIMD, ID_AA64PFR1.MTE_frac, ID_AA64DFR0.MTPMU/DoubleLock, ID_AA64MMFR0.TGran4/TGran64,
 *    ID_AA64MMFR4.E2H0, and the AArch32 ID_MMFR0.InnerShr/OuterShr, ID_MMFR3.Supersec, ID_DFR1.MTPMU.
 *  - HIGHER_SAFE: SpecSEI (ID_AA64MMFR1, ID_MMFR4), "an SError may come", is safe to claim; DCZID_EL0.DZP
 *    (DC ZVA prohibited); CLIDR_EL1 (describing more cache levels only makes the guest do more maintenance, which
 *    KVM traps, and a higher LoUU/LoUIS stays consistent with a merged CTR_EL0.IDC of 0, which KVM requires).
 *  - HIGHER_OR_ZERO_SAFE: CTR_EL0.CWG/ERG (0 = "not reported, assume 2 KiB"), CLIDR_EL1.ICB (0 = not disclosed).
 *  - STAGE2_GRANULE: ID_AA64MMFR0.TGran*_2, where 0 means "as at stage 1" and 1 means "not at stage 2".
 *  - EXACT: DCZID_EL0.BS and GMID_EL1.BS (DC ZVA, STGM and LDGM act on the real block size and cannot be trapped,
 *    so a guest told another size corrupts memory or tags), ID_AA64DFR1.SYSPMUID (an identifier, not a level),
 *    CCSIDR_EL1/CCSIDR2_EL1/SMIDR_EL1 (cache geometry and SME identity, taken whole).
 *  - CTR_EL0.L1Ip is LOWER_SAFE: VIPT (2) is the weaker promise than PIPT (3), as Linux reports mismatches.
 *  - ID_AA64ISAR1.API/GPI carry ARM64_FIELD_IMPDEF_ALGO: an IMPLEMENTATION DEFINED pointer authentication algorithm
 *    differs between CPU designs, so a PAC made on one host fails on another; they merge to 0 unless all hosts
 *    share implementer and part number.
 */
#include "idregs.h"

#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* clang-format off */
#define U4(n, s) {n, s, 4, ARM64_FIELD_LOWER_SAFE, 0}
#define S4(n, s) {n, s, 4, ARM64_FIELD_SIGNED_LOWER_SAFE, 0}
#define B1(n, s) {n, s, 1, ARM64_FIELD_LOWER_SAFE, 0}
#define FW(n, s, w, rule) {n, s, w, ARM64_FIELD_##rule, 0}
/* clang-format on */

/* AArch32 feature registers. */
static const struct arm64_idreg_field id_pfr0[] = {
    U4("RAS", 28),    U4("DIT", 24),   U4("AMU", 20),	U4("CSV2", 16),
    U4("State3", 12), U4("State2", 8), U4("State1", 4), U4("State0", 0),
};
static const struct arm64_idreg_field id_pfr1[] = {
    U4("GIC", 28),     U4("Virt_frac", 24), U4("Sec_frac", 20), U4("GenTimer", 16), U4("Virtualization", 12),
    U4("MProgMod", 8), U4("Security", 4),   U4("ProgMod", 0),
};
static const struct arm64_idreg_field id_dfr0[] = {
    U4("TraceFilt", 28), U4("PerfMon", 24), U4("MProfDbg", 20), U4("MMapTrc", 16),
    U4("CopTrc", 12),	 U4("MMapDbg", 8),  U4("CopSDbg", 4),	U4("CopDbg", 0),
};
static const struct arm64_idreg_field id_afr0[] = {
    U4("IMPDEF3", 12),
    U4("IMPDEF2", 8),
    U4("IMPDEF1", 4),
    U4("IMPDEF0", 0),
};
static const struct arm64_idreg_field id_mmfr0[] = {
    S4("InnerShr", 28), U4("FCSE", 24),	   U4("AuxReg", 20), U4("TCM", 16),
    U4("ShareLvl", 12), S4("OuterShr", 8), U4("PMSA", 4),    U4("VMSA", 0),
};
static const struct arm64_idreg_field id_mmfr1[] = {
    U4("BPred", 28),   U4("L1TstCln", 24), U4("L1Uni", 20),  U4("L1Hvd", 16),
    U4("L1UniSW", 12), U4("L1HvdSW", 8),   U4("L1UniVA", 4), U4("L1HvdVA", 0),
};
static const struct arm64_idreg_field id_mmfr2[] = {
    U4("HWAccFlg", 28), U4("WFIStall", 24), U4("MemBarr", 20), U4("UniTLB", 16),
    U4("HvdTLB", 12),	U4("L1HvdRng", 8),  U4("L1HvdBG", 4),  U4("L1HvdFG", 0),
};
static const struct arm64_idreg_field id_mmfr3[] = {
    S4("Supersec", 28),	 U4("CMemSz", 24), U4("CohWalk", 20), U4("PAN", 16),
    U4("MaintBcst", 12), U4("BPMaint", 8), U4("CMaintSW", 4), U4("CMaintVA", 0),
};
static const struct arm64_idreg_field id_isar0[] = {
    U4("Divide", 24),  U4("Debug", 20),	  U4("Coproc", 16), U4("CmpBranch", 12),
    U4("BitField", 8), U4("BitCount", 4), U4("Swap", 0),
};
static const struct arm64_idreg_field id_isar1[] = {
    U4("Jazelle", 28), U4("Interwork", 24), U4("Immediate", 20), U4("IfThen", 16),
    U4("Extend", 12),  U4("Except_AR", 8),  U4("Except", 4),	 U4("Endian", 0),
};
static const struct arm64_idreg_field id_isar2[] = {
    U4("Reversal", 28), U4("PSR_AR", 24),	 U4("MultU", 20),  U4("MultS", 16),
    U4("Mult", 12),	U4("MultiAccessInt", 8), U4("MemHint", 4), U4("LoadStore", 0),
};
static const struct arm64_idreg_field id_isar3[] = {
    U4("T32EE", 28),	 U4("TrueNOP", 24), U4("T32Copy", 20), U4("TabBranch", 16),
    U4("SynchPrim", 12), U4("SVC", 8),	    U4("SIMD", 4),     U4("Saturate", 0),
};
static const struct arm64_idreg_field id_isar4[] = {
    U4("SWP_frac", 28), U4("PSR_M", 24),    U4("SynchPrim_frac", 20), U4("Barrier", 16),
    U4("SMC", 12),	U4("Writeback", 8), U4("WithShifts", 4),      U4("Unpriv", 0),
};
static const struct arm64_idreg_field id_isar5[] = {
    U4("VCMA", 28), U4("RDM", 24), U4("CRC32", 16), U4("SHA2", 12), U4("SHA1", 8), U4("AES", 4), U4("SEVL", 0),
};
static const struct arm64_idreg_field id_mmfr4[] = {
    U4("EVT", 28), U4("CCIDX", 24), U4("LSM", 20), U4("HPDS", 16),
    U4("CnP", 12), U4("XNX", 8),    U4("AC2", 4),  FW("SpecSEI", 0, 4, HIGHER_SAFE),
};
static const struct arm64_idreg_field id_isar6[] = {
    U4("I8MM", 24), U4("BF16", 20), U4("SPECRES", 16), U4("SB", 12), U4("FHM", 8), U4("DP", 4), U4("JSCVT", 0),
};
static const struct arm64_idreg_field mvfr0[] = {
    U4("FPRound", 28), U4("FPShVec", 24), U4("FPSqrt", 20), U4("FPDivide", 16),
    U4("FPTrap", 12),  U4("FPDP", 8),	  U4("FPSP", 4),    U4("SIMDReg", 0),
};
static const struct arm64_idreg_field mvfr1[] = {
    U4("SIMDFMAC", 28), U4("FPHP", 24),	 U4("SIMDHP", 20), U4("SIMDSP", 16),
    U4("SIMDInt", 12),	U4("SIMDLS", 8), U4("FPDNaN", 4),  U4("FPFtZ", 0),
};
static const struct arm64_idreg_field mvfr2[] = {
    U4("FPMisc", 4),
    U4("SIMDMisc", 0),
};
static const struct arm64_idreg_field id_pfr2[] = {
    U4("RAS_frac", 8),
    U4("SSBS", 4),
    U4("CSV3", 0),
};
static const struct arm64_idreg_field id_dfr1[] = {
    U4("HPMN0", 4),
    S4("MTPMU", 0),
};
static const struct arm64_idreg_field id_mmfr5[] = {
    U4("nTLBPA", 4),
    U4("ETS", 0),
};

/* AArch64 feature registers. */
static const struct arm64_idreg_field id_aa64pfr0[] = {
    U4("CSV3", 60), U4("CSV2", 56), U4("RME", 52), U4("DIT", 48), U4("AMU", 44),     U4("MPAM", 40),
    U4("SEL2", 36), U4("SVE", 32),  U4("RAS", 28), U4("GIC", 24), S4("AdvSIMD", 20), S4("FP", 16),
    U4("EL3", 12),  U4("EL2", 8),   U4("EL1", 4),  U4("EL0", 0),
};
static const struct arm64_idreg_field id_aa64pfr1[] = {
    U4("PFAR", 60),	 U4("DF2", 56),	     U4("MTEX", 52),	  U4("THE", 48),       U4("GCS", 44),
    S4("MTE_frac", 40),	 U4("NMI", 36),	     U4("CSV2_frac", 32), U4("RNDR_trap", 28), U4("SME", 24),
    U4("MPAM_frac", 16), U4("RAS_frac", 12), U4("MTE", 8),	  U4("SSBS", 4),       U4("BT", 0),
};
static const struct arm64_idreg_field id_aa64pfr2[] = {
    U4("FPMR", 32), U4("UINJ", 16), U4("GCIE", 12), U4("MTEFAR", 8), U4("MTESTOREONLY", 4), U4("MTEPERM", 0),
};
static const struct arm64_idreg_field id_aa64zfr0[] = {
    U4("F64MM", 56),  U4("F32MM", 52), U4("F16MM", 48),	  U4("I8MM", 44),    U4("SM4", 40), U4("SHA3", 32),
    U4("B16B16", 24), U4("BF16", 20),  U4("BitPerm", 16), U4("EltPerm", 12), U4("AES", 4),  U4("SVEver", 0),
};
static const struct arm64_idreg_field id_aa64smfr0[] = {
    B1("FA64", 63),   B1("LUT6", 61),	  B1("LUTv2", 60),   U4("SMEver", 56), U4("I16I64", 52), B1("F64F64", 48),
    U4("I16I32", 44), B1("B16B16", 43),	  B1("F16F16", 42),  B1("F8F16", 41),  B1("F8F32", 40),	 U4("I8I32", 36),
    B1("F16F32", 35), B1("B16F32", 34),	  B1("BI32I32", 33), B1("F32F32", 32), B1("SF8FMA", 30), B1("SF8DP4", 29),
    B1("SF8DP2", 28), B1("SBitPerm", 25), B1("AES", 24),     B1("SFEXPA", 23), B1("STMOP", 16),	 B1("SMOP4", 0),
};
static const struct arm64_idreg_field id_aa64fpfr0[] = {
    B1("F8CVT", 31), B1("F8FMA", 30),  B1("F8DP4", 29), B1("F8DP2", 28), B1("F8MM8", 27),
    B1("F8MM4", 26), B1("F16MM2", 15), B1("F8E4M3", 1), B1("F8E5M2", 0),
};
static const struct arm64_idreg_field id_aa64dfr0[] = {
    U4("HPMN0", 60),	   U4("ExtTrcBuff", 56), U4("BRBE", 52),       S4("MTPMU", 48),
    U4("TraceBuffer", 44), U4("TraceFilt", 40),	 S4("DoubleLock", 36), U4("PMSVer", 32),
    U4("CTX_CMPs", 28),	   U4("SEBEP", 24),	 U4("WRPs", 20),       U4("PMSS", 16),
    U4("BRPs", 12),	   U4("PMUVer", 8),	 U4("TraceVer", 4),    U4("DebugVer", 0),
};
static const struct arm64_idreg_field id_aa64dfr1[] = {
    FW("ABL_CMPs", 56, 8, LOWER_SAFE),
    U4("DPFZS", 52),
    U4("EBEP", 48),
    U4("ITE", 44),
    U4("ABLE", 40),
    U4("PMICNTR", 36),
    U4("SPMU", 32),
    FW("CTX_CMPs", 24, 8, LOWER_SAFE),
    FW("WRPs", 16, 8, LOWER_SAFE),
    FW("BRPs", 8, 8, LOWER_SAFE),
    FW("SYSPMUID", 0, 8, EXACT),
};
static const struct arm64_idreg_field id_aa64dfr2[] = {
    U4("TRBE_EXC", 24), U4("SPE_nVM", 20), U4("SPE_EXC", 16), U4("BWE", 4), U4("STEP", 0),
};
static const struct arm64_idreg_field id_aa64afr0[] = {
    U4("IMPDEF7", 28), U4("IMPDEF6", 24), U4("IMPDEF5", 20), U4("IMPDEF4", 16),
    U4("IMPDEF3", 12), U4("IMPDEF2", 8),  U4("IMPDEF1", 4),  U4("IMPDEF0", 0),
};
static const struct arm64_idreg_field id_aa64isar0[] = {
    U4("RNDR", 60), U4("TLB", 56), U4("TS", 52),     U4("FHM", 48),   U4("DP", 44),   U4("SM4", 40), U4("SM3", 36),
    U4("SHA3", 32), U4("RDM", 28), U4("ATOMIC", 20), U4("CRC32", 16), U4("SHA2", 12), U4("SHA1", 8), U4("AES", 4),
};
static const struct arm64_idreg_field id_aa64isar1[] = {
    U4("LS64", 60),
    U4("XS", 56),
    U4("I8MM", 52),
    U4("DGH", 48),
    U4("BF16", 44),
    U4("SPECRES", 40),
    U4("SB", 36),
    U4("FRINTTS", 32),
    {"GPI", 28, 4, ARM64_FIELD_LOWER_SAFE, ARM64_FIELD_IMPDEF_ALGO},
    U4("GPA", 24),
    U4("LRCPC", 20),
    U4("FCMA", 16),
    U4("JSCVT", 12),
    {"API", 8, 4, ARM64_FIELD_LOWER_SAFE, ARM64_FIELD_IMPDEF_ALGO},
    U4("APA", 4),
    U4("DPB", 0),
};
static const struct arm64_idreg_field id_aa64isar2[] = {
    U4("ATS1A", 60),	U4("LUT", 56),	    U4("CSSC", 52),	    U4("RPRFM", 48),
    U4("PCDPHINT", 44), U4("PRFMSLC", 40),  U4("SYSINSTR_128", 36), U4("SYSREG_128", 32),
    U4("CLRBHB", 28),	U4("PAC_frac", 24), U4("BC", 20),	    U4("MOPS", 16),
    U4("APA3", 12),	U4("GPA3", 8),	    U4("RPRES", 4),	    U4("WFxT", 0),
};
static const struct arm64_idreg_field id_aa64isar3[] = {
    U4("FPRCVT", 28), U4("LSUI", 24), U4("OCCMO", 20),	 U4("LSFE", 16),
    U4("PACM", 12),   U4("TLBIW", 8), U4("FAMINMAX", 4), U4("CPA", 0),
};
static const struct arm64_idreg_field id_aa64mmfr0[] = {
    U4("ECV", 60),
    U4("FGT", 56),
    U4("EXS", 44),
    FW("TGran4_2", 40, 4, STAGE2_GRANULE),
    FW("TGran64_2", 36, 4, STAGE2_GRANULE),
    FW("TGran16_2", 32, 4, STAGE2_GRANULE),
    S4("TGran4", 28),
    S4("TGran64", 24),
    U4("TGran16", 20),
    U4("BigEndEL0", 16),
    U4("SNSMem", 12),
    U4("BigEnd", 8),
    U4("ASIDBits", 4),
    U4("PARange", 0),
};
static const struct arm64_idreg_field id_aa64mmfr1[] = {
    U4("ECBHB", 60), U4("CMOW", 56), U4("TIDCP1", 52), U4("nTLBPA", 48), U4("AFP", 44),
    U4("HCX", 40),   U4("ETS", 36),  U4("TWED", 32),   U4("XNX", 28),	 FW("SpecSEI", 24, 4, HIGHER_SAFE),
    U4("PAN", 20),   U4("LO", 16),   U4("HPDS", 12),   U4("VH", 8),	 U4("VMIDBits", 4),
    U4("HAFDBS", 0),
};
static const struct arm64_idreg_field id_aa64mmfr2[] = {
    U4("E0PD", 60),    U4("EVT", 56),  U4("BBM", 52), U4("TTL", 48), U4("FWB", 40),
    U4("IDS", 36),     U4("AT", 32),   U4("ST", 28),  U4("NV", 24),  U4("CCIDX", 20),
    U4("VARange", 16), U4("IESB", 12), U4("LSM", 8),  U4("UAO", 4),  U4("CnP", 0),
};
static const struct arm64_idreg_field id_aa64mmfr3[] = {
    U4("Spec_FPACC", 60), U4("ADERR", 56), U4("SDERR", 52), U4("ANERR", 44), U4("SNERR", 40),
    U4("D128_2", 36),	  U4("D128", 32),  U4("MEC", 28),   U4("AIE", 24),   U4("S2POE", 20),
    U4("S1POE", 16),	  U4("S2PIE", 12), U4("S1PIE", 8),  U4("SCTLRX", 4), U4("TCRX", 0),
};
static const struct arm64_idreg_field id_aa64mmfr4[] = {
    U4("MTEFGT", 60), U4("SCRX", 56),  U4("TEV", 52),	 U4("TPS", 48),	 U4("SRMASK", 44),  U4("TLBID", 40),
    U4("E3DSE", 36),  U4("EAESR", 32), U4("RMEGDI", 28), S4("E2H0", 24), U4("NV_frac", 20), U4("FGWTE3", 16),
    U4("HACDBS", 12), U4("ASID2", 8),  U4("EIESB", 4),	 U4("PoPS", 0),
};

/* op1=1 and op1=3: cache and block-size identification. */
static const struct arm64_idreg_field whole_exact[] = {
    FW("value", 0, 64, EXACT),
};
static const struct arm64_idreg_field clidr[] = {
    FW("Ttype7", 45, 2, HIGHER_SAFE), FW("Ttype6", 43, 2, HIGHER_SAFE),	     FW("Ttype5", 41, 2, HIGHER_SAFE),
    FW("Ttype4", 39, 2, HIGHER_SAFE), FW("Ttype3", 37, 2, HIGHER_SAFE),	     FW("Ttype2", 35, 2, HIGHER_SAFE),
    FW("Ttype1", 33, 2, HIGHER_SAFE), FW("ICB", 30, 3, HIGHER_OR_ZERO_SAFE), FW("LoUU", 27, 3, HIGHER_SAFE),
    FW("LoC", 24, 3, HIGHER_SAFE),    FW("LoUIS", 21, 3, HIGHER_SAFE),	     FW("Ctype7", 18, 3, HIGHER_SAFE),
    FW("Ctype6", 15, 3, HIGHER_SAFE), FW("Ctype5", 12, 3, HIGHER_SAFE),	     FW("Ctype4", 9, 3, HIGHER_SAFE),
    FW("Ctype3", 6, 3, HIGHER_SAFE),  FW("Ctype2", 3, 3, HIGHER_SAFE),	     FW("Ctype1", 0, 3, HIGHER_SAFE),
};
static const struct arm64_idreg_field gmid[] = {
    FW("BS", 0, 4, EXACT),
};
static const struct arm64_idreg_field ctr[] = {
    FW("TminLine", 32, 6, LOWER_SAFE),
    B1("DIC", 29),
    B1("IDC", 28),
    FW("CWG", 24, 4, HIGHER_OR_ZERO_SAFE),
    FW("ERG", 20, 4, HIGHER_OR_ZERO_SAFE),
    U4("DminLine", 16),
    FW("L1Ip", 14, 2, LOWER_SAFE),
    U4("IminLine", 0),
};
static const struct arm64_idreg_field dczid[] = {
    FW("DZP", 4, 1, HIGHER_SAFE),
    FW("BS", 0, 4, EXACT),
};

/* clang-format off */
#define REG(n, op1, crm, op2, f) {ARM64_SYSREG_ENC(3, op1, 0, crm, op2), #n, ARM64_IDREG_FEATURE, f, ARRAY_LEN(f)}
#define REG0(n, op1, crm, op2) {ARM64_SYSREG_ENC(3, op1, 0, crm, op2), #n, ARM64_IDREG_FEATURE, NULL, 0}
#define IDENT(n, op1, crm, op2) {ARM64_SYSREG_ENC(3, op1, 0, crm, op2), #n, ARM64_IDREG_IDENTITY, NULL, 0}
/* clang-format on */

/* In encoding order (a unit test checks it). */
const struct arm64_idreg_desc arm64_idreg_table[] = {
    IDENT(MIDR_EL1, 0, 0, 0),
    IDENT(MPIDR_EL1, 0, 0, 5),
    IDENT(REVIDR_EL1, 0, 0, 6),
    REG(ID_PFR0_EL1, 0, 1, 0, id_pfr0),
    REG(ID_PFR1_EL1, 0, 1, 1, id_pfr1),
    REG(ID_DFR0_EL1, 0, 1, 2, id_dfr0),
    REG(ID_AFR0_EL1, 0, 1, 3, id_afr0),
    REG(ID_MMFR0_EL1, 0, 1, 4, id_mmfr0),
    REG(ID_MMFR1_EL1, 0, 1, 5, id_mmfr1),
    REG(ID_MMFR2_EL1, 0, 1, 6, id_mmfr2),
    REG(ID_MMFR3_EL1, 0, 1, 7, id_mmfr3),
    REG(ID_ISAR0_EL1, 0, 2, 0, id_isar0),
    REG(ID_ISAR1_EL1, 0, 2, 1, id_isar1),
    REG(ID_ISAR2_EL1, 0, 2, 2, id_isar2),
    REG(ID_ISAR3_EL1, 0, 2, 3, id_isar3),
    REG(ID_ISAR4_EL1, 0, 2, 4, id_isar4),
    REG(ID_ISAR5_EL1, 0, 2, 5, id_isar5),
    REG(ID_MMFR4_EL1, 0, 2, 6, id_mmfr4),
    REG(ID_ISAR6_EL1, 0, 2, 7, id_isar6),
    REG(MVFR0_EL1, 0, 3, 0, mvfr0),
    REG(MVFR1_EL1, 0, 3, 1, mvfr1),
    REG(MVFR2_EL1, 0, 3, 2, mvfr2),
    REG(ID_PFR2_EL1, 0, 3, 4, id_pfr2),
    REG(ID_DFR1_EL1, 0, 3, 5, id_dfr1),
    REG(ID_MMFR5_EL1, 0, 3, 6, id_mmfr5),
    REG(ID_AA64PFR0_EL1, 0, 4, 0, id_aa64pfr0),
    REG(ID_AA64PFR1_EL1, 0, 4, 1, id_aa64pfr1),
    REG(ID_AA64PFR2_EL1, 0, 4, 2, id_aa64pfr2),
    REG(ID_AA64ZFR0_EL1, 0, 4, 4, id_aa64zfr0),
    REG(ID_AA64SMFR0_EL1, 0, 4, 5, id_aa64smfr0),
    REG(ID_AA64FPFR0_EL1, 0, 4, 7, id_aa64fpfr0),
    REG(ID_AA64DFR0_EL1, 0, 5, 0, id_aa64dfr0),
    REG(ID_AA64DFR1_EL1, 0, 5, 1, id_aa64dfr1),
    REG(ID_AA64DFR2_EL1, 0, 5, 2, id_aa64dfr2),
    REG(ID_AA64AFR0_EL1, 0, 5, 4, id_aa64afr0),
    REG0(ID_AA64AFR1_EL1, 0, 5, 5),
    REG(ID_AA64ISAR0_EL1, 0, 6, 0, id_aa64isar0),
    REG(ID_AA64ISAR1_EL1, 0, 6, 1, id_aa64isar1),
    REG(ID_AA64ISAR2_EL1, 0, 6, 2, id_aa64isar2),
    REG(ID_AA64ISAR3_EL1, 0, 6, 3, id_aa64isar3),
    REG(ID_AA64MMFR0_EL1, 0, 7, 0, id_aa64mmfr0),
    REG(ID_AA64MMFR1_EL1, 0, 7, 1, id_aa64mmfr1),
    REG(ID_AA64MMFR2_EL1, 0, 7, 2, id_aa64mmfr2),
    REG(ID_AA64MMFR3_EL1, 0, 7, 3, id_aa64mmfr3),
    REG(ID_AA64MMFR4_EL1, 0, 7, 4, id_aa64mmfr4),
    REG(CCSIDR_EL1, 1, 0, 0, whole_exact),
    REG(CLIDR_EL1, 1, 0, 1, clidr),
    REG(CCSIDR2_EL1, 1, 0, 2, whole_exact),
    REG(GMID_EL1, 1, 0, 4, gmid),
    REG(SMIDR_EL1, 1, 0, 6, whole_exact),
    IDENT(AIDR_EL1, 1, 0, 7),
    REG(CTR_EL0, 3, 0, 1, ctr),
    REG(DCZID_EL0, 3, 0, 7, dczid),
};

const int arm64_idreg_table_len = ARRAY_LEN(arm64_idreg_table);
