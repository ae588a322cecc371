// preload::FdTable: which kernel descriptors are tapir sockets, with a count of the
// descriptors (dup) that name each socket.
#include <catch2/catch.hpp>

#include <algorithm>

#include "preload/fd_table.hpp"

using namespace tapir::preload;

TEST_CASE("fd table: every descriptor is the kernel's until one is bound", "[preload]") {
  FdTable t;
  CHECK_FALSE(t.any());
  CHECK(t.lookup(3) == kKernel);
  CHECK(t.lookup(-1) == kKernel);
  t.bind(7, 0);
  CHECK(t.any());
  CHECK(t.lookup(7) == 0);
  CHECK(t.lookup(6) == kKernel);
  CHECK(t.lookup(FdTable::kLimit + 1) == kKernel);
}

TEST_CASE("fd table: the socket goes with the last descriptor that names it (dup)", "[preload]") {
  FdTable t;
  t.bind(5, 2);
  t.bind(9, 2);  // dup(5)
  CHECK(t.references(2) == 2);
  CHECK(t.unbind(5) == 1);
  CHECK(t.lookup(5) == kKernel);
  CHECK(t.lookup(9) == 2);
  CHECK(t.unbind(9) == 0);
  CHECK(t.unbind(9) == -1);  // names nothing any more
}

TEST_CASE("fd table: an orphan (inherited across fork) names no socket of this process",
          "[preload]") {
  FdTable t;
  t.bind(4, kOrphan);
  CHECK(t.lookup(4) == kOrphan);
  CHECK(t.unbind(4) == 0);
  CHECK(t.lookup(4) == kKernel);
}

TEST_CASE("fd table: descriptors() lists every bound descriptor, in any chunk", "[preload]") {
  FdTable t;
  t.bind(3, 0);
  t.bind(5000, 1);
  t.bind(70000, kOrphan);
  auto list = t.descriptors();
  std::sort(list.begin(), list.end());
  CHECK(list == std::vector<int>{3, 5000, 70000});
}
