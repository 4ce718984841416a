/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input of rpmem's bindgen run (rust/bindgen.sh): the public nvdimm, dax and
 * badblocks headers, the driver-private drivers/nvdimm headers nd_pmem uses,
 * the glue functions of rpmem_glue.c and the prototypes of the Rust entry
 * points (rpmem_glue.h, linux/rpmem.h), which the layer checks its
 * functions against at compile time (checked_prototypes!).
 */
#include <linux/blkdev.h>
#include <linux/badblocks.h>
#include <linux/dax.h>
#include <linux/libnvdimm.h>
#include <linux/nd.h>
#include <linux/memremap.h>
#include <linux/uio.h>
#include <linux/io.h>
#include "nd-core.h"
#include "nd.h"
#include "pfn.h"
#include "rpmem_glue.h"
#include <linux/rpmem.h>


/*
 * Macros whose values bindgen cannot evaluate (they cast): constants it can.
 * bindgen.sh strips the RPMEM_CONST_ prefix, as the kernel does for its own.
 */
static const blk_features_t RPMEM_CONST_BLK_FEAT_WRITE_CACHE = BLK_FEAT_WRITE_CACHE;
static const blk_features_t RPMEM_CONST_BLK_FEAT_FUA = BLK_FEAT_FUA;
static const blk_features_t RPMEM_CONST_BLK_FEAT_DAX = BLK_FEAT_DAX;
static const blk_features_t RPMEM_CONST_BLK_FEAT_SYNCHRONOUS = BLK_FEAT_SYNCHRONOUS;
static const blk_features_t RPMEM_CONST_BLK_FEAT_IO_STAT = BLK_FEAT_IO_STAT;
static const blk_opf_t RPMEM_CONST_REQ_OP_MASK = REQ_OP_MASK;
static const blk_opf_t RPMEM_CONST_REQ_PREFLUSH = REQ_PREFLUSH;
static const blk_opf_t RPMEM_CONST_REQ_FUA = REQ_FUA;
static const unsigned long RPMEM_CONST_ARCH_MEMREMAP_PMEM = ARCH_MEMREMAP_PMEM;
