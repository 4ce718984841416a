// SPDX-License-Identifier: GPL-2.0
/*
 * rpmem glue: what C must do for the Rust abstraction layer (rust/kernel/):
 * static inlines and macros the Rust side cannot call, wrapped one to one
 * with an rpmem_ prefix; the sysfs attribute tables (DEVICE_ATTR, and
 * is_visible on a .config option), which call back into the disk's Rust
 * operations; the string-valued module parameter (module_param_cb); the
 * export of rpmem_direct_access(); the weak references to nd_btt. No driver
 * logic lives here.
 */
#include <linux/blkdev.h>
#include <linux/badblocks.h>
#include <linux/dax.h>
#include <linux/highmem.h>
#include <linux/memremap.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/nd.h>
#include <linux/rpmem.h>
#include <linux/sched/mm.h>
#include <linux/set_memory.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/vmalloc.h>
#include "nd.h"
#include "pmem.h"
#include "rpmem_glue.h"

/* Implemented in Rust (rust/kernel/dax.rs). */
EXPORT_SYMBOL_GPL(rpmem_direct_access);

/*
 * The BTT's entry points (nd_btt.ko), referenced weakly: the module loader
 * leaves an unresolved weak symbol NULL, so rpmem.ko loads (insmod) without
 * nd_btt, and only BTT namespaces need it, loaded before rpmem (modprobe
 * does that: modinfo still lists nd_btt in depends). symbol_request()
 * cannot help: symbol_get() refuses symbols that are not EXPORT_SYMBOL_GPL,
 * and these two are EXPORT_SYMBOL.
 */
extern int nvdimm_namespace_attach_btt(struct nd_namespace_common *ndns) __weak;
extern int nvdimm_namespace_detach_btt(struct nd_btt *nd_btt) __weak;

bool rpmem_has_btt(void)
{
	return nvdimm_namespace_attach_btt && nvdimm_namespace_detach_btt;
}

int rpmem_attach_btt(struct nd_namespace_common *ndns)
{
	if (!rpmem_has_btt())
		return -EOPNOTSUPP;
	return nvdimm_namespace_attach_btt(ndns);
}

void rpmem_detach_btt(struct nd_btt *nd_btt)
{
	if (rpmem_has_btt())
		nvdimm_namespace_detach_btt(nd_btt);
}

/*
 * clear_poison: the kernel crate's module parameters are integers and
 * booleans, so this string-valued one is declared here; Rust parses and
 * stores it (drivers/nvdimm/rpmem/poison.rs, rust/kernel/param.rs).
 */
static const struct kernel_param_ops rpmem_clear_poison_ops = {
	.set = rpmem_clear_poison_set,
	.get = rpmem_clear_poison_get,
};
module_param_cb(clear_poison, &rpmem_clear_poison_ops, NULL, 0644);
MODULE_PARM_DESC(clear_poison,
		 "How poison is cleared before a repairing write: auto (default: the bus's firmware clear where it has one, else software), firmware, software");

/*
 * The disk's sysfs attributes are answered by its driver's Rust functions,
 * found next to the disk's fops (rust/kernel/disk.rs builds both).
 */
static const struct rpmem_disk_ops *disk_ops(struct device *dev)
{
	return container_of(dev_to_disk(dev)->fops, struct rpmem_disk_ops, fops);
}

static ssize_t attr_show(struct device *dev, enum rpmem_disk_attr attr, char *buf)
{
	return disk_ops(dev)->show(dev_to_disk(dev), attr, buf);
}

static ssize_t attr_store(struct device *dev, enum rpmem_disk_attr attr, const char *buf,
			  size_t len)
{
	return disk_ops(dev)->store(dev_to_disk(dev), attr, buf, len);
}

/* /sys/block/pmemN/dax/write_cache, as nd_pmem has it. */
static ssize_t write_cache_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return attr_show(dev, RPMEM_DISK_ATTR_WRITE_CACHE, buf);
}

static ssize_t write_cache_store(struct device *dev, struct device_attribute *attr,
				 const char *buf, size_t len)
{
	return attr_store(dev, RPMEM_DISK_ATTR_WRITE_CACHE, buf, len);
}
static DEVICE_ATTR_RW(write_cache);

static umode_t dax_visible(struct kobject *kobj, struct attribute *a, int n)
{
	if (!IS_ENABLED(CONFIG_ARCH_HAS_PMEM_API) && a == &dev_attr_write_cache.attr)
		return 0;
	return a->mode;
}

static struct attribute *dax_attributes[] = {
	&dev_attr_write_cache.attr,
	NULL,
};

static const struct attribute_group dax_attribute_group = {
	.name = "dax",
	.attrs = dax_attributes,
	.is_visible = dax_visible,
};

/*
 * /sys/block/pmemN/badblocks: rpmem's own attribute, in the format of the
 * block layer's, which stays hidden because disk->bb is left NULL: rpmem
 * checks injected ranges against the capacity and keeps records beyond
 * what one struct badblocks holds.
 */
static ssize_t rpmem_bb_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return attr_show(dev, RPMEM_DISK_ATTR_BADBLOCKS, buf);
}

static ssize_t rpmem_bb_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t len)
{
	return attr_store(dev, RPMEM_DISK_ATTR_BADBLOCKS, buf, len);
}

static struct device_attribute dev_attr_rpmem_badblocks =
	__ATTR(badblocks, 0644, rpmem_bb_show, rpmem_bb_store);

static struct attribute *rpmem_attributes[] = {
	&dev_attr_rpmem_badblocks.attr,
	NULL,
};

static const struct attribute_group rpmem_attribute_group = {
	.attrs = rpmem_attributes,
};

static const struct attribute_group *rpmem_attribute_groups[] = {
	&rpmem_attribute_group,
	&dax_attribute_group,
	NULL,
};

struct nd_namespace_io *rpmem_to_nd_namespace_io(struct nd_namespace_common *ndns)
{
	return to_nd_namespace_io(&ndns->dev);
}

struct nd_region *rpmem_parent_region(struct device *dev)
{
	return to_nd_region(dev->parent);
}

u32 rpmem_info_block_reserve(void)
{
	return nd_info_block_reserve();
}

void *rpmem_get_drvdata(struct device *dev)
{
	return dev_get_drvdata(dev);
}

void rpmem_set_drvdata(struct device *dev, void *data)
{
	dev_set_drvdata(dev, data);
}

int rpmem_devm_add_action_or_reset(struct device *dev, void (*action)(void *), void *data)
{
	return devm_add_action_or_reset(dev, action, data);
}

bool rpmem_devm_request_mem_region(struct device *dev, u64 start, u64 size,
				   struct nd_namespace_common *ndns)
{
	return devm_request_mem_region(dev, start, size, dev_name(&ndns->dev));
}

int rpmem_dev_to_node(struct device *dev)
{
	return dev_to_node(dev);
}

void *rpmem_devm_kzalloc(struct device *dev, size_t size)
{
	return devm_kzalloc(dev, size, GFP_KERNEL);
}

bool rpmem_has_uaccess_flushcache(void)
{
	return IS_ENABLED(CONFIG_ARCH_HAS_UACCESS_FLUSHCACHE);
}

struct gendisk *rpmem_alloc_disk(struct queue_limits *lim, int nid)
{
	return blk_alloc_disk(lim, nid);
}

int rpmem_add_disk(struct device *parent, struct gendisk *disk,
		   const struct rpmem_disk_ops *ops, void *private_data)
{
	disk->fops = &ops->fops;
	disk->private_data = private_data;
	return device_add_disk(parent, disk, rpmem_attribute_groups);
}

/*
 * Everything submit_bio asks of a bio before its data, in one call: the
 * kernel's inline tests, evaluated where they are defined.
 */
void rpmem_bio_set_status(struct bio *bio, int err)
{
	bio->bi_status = errno_to_blk_status(err);
}

/*
 * One page of a block write: map it, copy to pmem bypassing the cache
 * (nd_pmem's write_pmem, a page at a time).
 */
void rpmem_page_to_pmem(void *pmem, struct page *page, unsigned int off, unsigned int len)
{
	void *mem = kmap_local_page(page);

	flush_dcache_page(page);
	memcpy_flushcache(pmem, mem + off, len);
	kunmap_local(mem);
}

/*
 * One page of a block read with a machine-check-safe copy (nd_pmem's
 * read_pmem, a page at a time); the bytes not copied.
 */
unsigned long rpmem_pmem_to_page(struct page *page, unsigned int off, const void *pmem, unsigned int len)
{
	void *mem = kmap_local_page(page);
	unsigned long rem = copy_mc_to_kernel(mem + off, pmem, len);

	kunmap_local(mem);
	flush_dcache_page(page);
	return rem;
}

unsigned int rpmem_memalloc_noio_save(void)
{
	return memalloc_noio_save();
}

void rpmem_memalloc_noio_restore(unsigned int flags)
{
	memalloc_noio_restore(flags);
}

struct page *rpmem_zero_page(void)
{
	return ZERO_PAGE(0);
}

struct kernfs_node *rpmem_badblocks_dirent(struct gendisk *disk)
{
	return sysfs_get_dirent(disk_to_dev(disk)->kobj.sd, "badblocks");
}

void rpmem_sysfs_notify_dirent(struct kernfs_node *kn)
{
	sysfs_notify_dirent(kn);
}

unsigned int rpmem_bb_read_begin(struct badblocks *bb)
{
	return read_seqbegin(&bb->lock);
}

bool rpmem_bb_read_retry(struct badblocks *bb, unsigned int seq)
{
	return read_seqretry(&bb->lock, seq);
}

/*
 * The first entry of @bb that overlaps sectors [@start, @end), whole, in
 * *@bad_start and *@bad_end: badblocks_check()'s seqlock read section and
 * search in one call (its primitives are static inlines: two calls from
 * Rust for the section cost a lookup more than nd_pmem's one call), with
 * its shortcuts (sectors before the first entry or after the last: no
 * bisection) and without its WARN_ON on entries that a concurrent writer
 * is moving (such a section is retried anyway). Entries are read
 * READ_ONCE, only inside the page.
 */
bool rpmem_bb_first_overlap(struct badblocks *bb, u64 start, u64 end,
			    u64 *bad_start, u64 *bad_end)
{
	unsigned int seq;
	bool found;

	do {
		int lo = 0, hi, n;
		u64 e;

		found = false;
		seq = read_seqbegin(&bb->lock);
		n = min_t(int, READ_ONCE(bb->count), MAX_BADBLOCKS);
		hi = n;
		if (n && BB_END(READ_ONCE(bb->page[n - 1])) <= start)
			lo = n;		/* after the last entry */
		else if (n && BB_END(READ_ONCE(bb->page[0])) > start)
			hi = 0;		/* the first entry, if any overlaps */
		while (lo < hi) {
			int mid = lo + (hi - lo) / 2;

			e = READ_ONCE(bb->page[mid]);
			if (BB_END(e) <= start)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < n) {
			e = READ_ONCE(bb->page[lo]);
			if (BB_OFFSET(e) < end) {
				found = true;
				*bad_start = BB_OFFSET(e);
				*bad_end = BB_END(e);
			}
		}
	} while (read_seqretry(&bb->lock, seq));
	return found;
}

void rpmem_sysfs_put(struct kernfs_node *kn)
{
	sysfs_put(kn);
}

bool rpmem_is_vmalloc_addr(const void *addr)
{
	return is_vmalloc_addr(addr);
}

void rpmem_pfn_clear_poison(unsigned long pfn)
{
	if (!pfn_valid(pfn))
		return;
	if (test_and_clear_pmem_poison(pfn_to_page(pfn)))
		clear_mce_nospec(pfn);
}
