// SPDX-License-Identifier: GPL-2.0

//! The kernel-independent files of drivers/nvdimm/rpmem and rust/kernel,
//! built for the host.

#[path = "../../../../../drivers/nvdimm/rpmem/range.rs"]
pub mod range;

#[cfg(test)]
mod range_tests;

#[path = "../../../../../drivers/nvdimm/rpmem/parse.rs"]
pub mod parse;

#[cfg(test)]
mod parse_tests;

#[path = "../../../../../rust/kernel/kaddr.rs"]
pub mod kaddr;

#[cfg(test)]
mod kaddr_tests;

#[path = "../../../../../drivers/nvdimm/rpmem/extents.rs"]
pub mod extents;

#[cfg(test)]
mod extents_tests;
