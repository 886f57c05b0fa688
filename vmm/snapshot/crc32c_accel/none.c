/* No CRC32C instructions used on this build's architecture (LoongArch, for now): the table does it (crc32c.h). */
#include "snapshot/crc32c.h"

crc32c_fn crc32c_accel(void)
{
	return NULL;
}
