/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rpmem glue: the C side of rpmem's FFI layer.
 *
 * Static inlines and macros of the kernel that bindgen cannot call
 * (wrapped one to one, same names with an rpmem_ prefix); the table through
 * which the disk's sysfs attributes reach its Rust operations; and the
 * prototypes of the Rust functions the C side calls by name, which the
 * Rust side checks against these at compile time (checked_prototypes! in
 * rust/kernel/mod.rs).
 */
#ifndef RPMEM_GLUE_H
#define RPMEM_GLUE_H

#include <linux/blkdev.h>
#include <linux/types.h>

struct badblocks;
struct bio;
struct block_device_operations;
struct bio_vec;
struct bvec_iter;
struct dax_device;
struct dentry;
struct device;
struct dev_pagemap;
struct gendisk;
struct iov_iter;
struct kernel_param;
struct kernfs_node;
struct nd_namespace_common;
struct nd_namespace_io;
struct nd_region;
struct page;
struct queue_limits;
struct seq_file;
enum dax_access_mode;
enum nvdimm_event;

/* nd bus */
struct nd_btt;
bool rpmem_has_btt(void);
int rpmem_attach_btt(struct nd_namespace_common *ndns);
void rpmem_detach_btt(struct nd_btt *nd_btt);
struct nd_namespace_io *rpmem_to_nd_namespace_io(struct nd_namespace_common *ndns);
struct nd_region *rpmem_parent_region(struct device *dev);
u32 rpmem_info_block_reserve(void);
void *rpmem_get_drvdata(struct device *dev);
void rpmem_set_drvdata(struct device *dev, void *data);
int rpmem_devm_add_action_or_reset(struct device *dev, void (*action)(void *), void *data);
bool rpmem_devm_request_mem_region(struct device *dev, u64 start, u64 size,
				   struct nd_namespace_common *ndns);
int rpmem_dev_to_node(struct device *dev);
void *rpmem_devm_kzalloc(struct device *dev, size_t size);
bool rpmem_has_uaccess_flushcache(void);

/* block */
struct gendisk *rpmem_alloc_disk(struct queue_limits *lim, int nid);
/*
 * A disk's fops and the functions that answer its sysfs attributes (which
 * find them from disk->fops), built by rust/kernel/disk.rs.
 */
enum rpmem_disk_attr {
	RPMEM_DISK_ATTR_BADBLOCKS,
	RPMEM_DISK_ATTR_WRITE_CACHE,
};
struct rpmem_disk_ops {
	struct block_device_operations fops;
	ssize_t (*show)(struct gendisk *disk, enum rpmem_disk_attr attr, char *buf);
	ssize_t (*store)(struct gendisk *disk, enum rpmem_disk_attr attr, const char *buf,
			 size_t len);
};
int rpmem_add_disk(struct device *parent, struct gendisk *disk,
		   const struct rpmem_disk_ops *ops, void *private_data);
void rpmem_bio_set_status(struct bio *bio, int err);
void rpmem_page_to_pmem(void *pmem, struct page *page, unsigned int off, unsigned int len);
unsigned long rpmem_pmem_to_page(struct page *page, unsigned int off, const void *pmem, unsigned int len);
struct page *rpmem_zero_page(void);
struct kernfs_node *rpmem_badblocks_dirent(struct gendisk *disk);
void rpmem_sysfs_notify_dirent(struct kernfs_node *kn);
void rpmem_sysfs_put(struct kernfs_node *kn);
unsigned int rpmem_bb_read_begin(struct badblocks *bb);
bool rpmem_bb_read_retry(struct badblocks *bb, unsigned int seq);
bool rpmem_bb_first_overlap(struct badblocks *bb, u64 start, u64 end,
			    u64 *bad_start, u64 *bad_end);

/* memory */
bool rpmem_is_vmalloc_addr(const void *addr);
void rpmem_pfn_clear_poison(unsigned long pfn);
unsigned int rpmem_memalloc_noio_save(void);
void rpmem_memalloc_noio_restore(unsigned int flags);

/*
 * Rust entry points (string_param_ops! in rust/kernel/param.rs, for
 * drivers/nvdimm/rpmem/poison.rs), called from the kernel_param_ops of
 * rpmem_glue.c.
 */
int rpmem_clear_poison_set(const char *val, const struct kernel_param *kp);
int rpmem_clear_poison_get(char *buf, const struct kernel_param *kp);

#endif /* RPMEM_GLUE_H */
