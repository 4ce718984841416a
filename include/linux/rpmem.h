/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rpmem: what other kernel code may call. See Documentation/rpmem.rst,
 * "The kaddr convention".
 */
#ifndef _LINUX_RPMEM_H
#define _LINUX_RPMEM_H

#include <linux/types.h>

struct dax_device;

/* The value of the input *kaddr that asks rpmem_direct_access() for recovery. */
#define RPMEM_KADDR_RECOVERY	((void *)1UL)

/**
 * rpmem_direct_access() - dax_direct_access() with the mode in *kaddr
 * @dax_dev: a live DAX device (any driver's)
 * @pgoff: first page offset
 * @nr_pages: pages wanted
 * @kaddr: NULL to ask for the pfn only (failfast); otherwise on input
 *	%NULL for failfast or %RPMEM_KADDR_RECOVERY for recovery, and on
 *	output the kernel address of @pgoff, never with a flag bit set
 * @pfn: NULL, or where to store the page frame of @pgoff
 *
 * The caller holds dax_read_lock(), as for dax_direct_access().
 *
 * Return: pages usable from @pgoff (failfast: the clean pages before the
 * first poisoned one; recovery: up to the first poisoned page, at least
 * one), -EHWPOISON if failfast meets poison in the first page, -EINVAL for
 * any other input *kaddr, or the device's error.
 */
long rpmem_direct_access(struct dax_device *dax_dev, unsigned long pgoff,
			 long nr_pages, void **kaddr, unsigned long *pfn);

#endif /* _LINUX_RPMEM_H */
