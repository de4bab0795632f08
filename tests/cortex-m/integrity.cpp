// Boot-time flash check on the device: recompute the weights' CRC-32 from flash and compare it
// with the value the compiler computed (tinynet::verify_weights). tests/integration/test_integrity.py
// builds this with a generated model header ("model.hpp", namespace m), runs it under QEMU, then
// patches one byte of a weight table in the ELF file and runs it again: the check must fail.
// Exit status: 0 intact, 3 corrupted (and the line "weights: corrupted").
#include <cstdint>

#include "model.hpp"
#include "semihost.hpp"

int main() {
  const auto spans = tinynet::constant_spans<m::network>();
  semihost::print("tables: ", static_cast<std::uint32_t>(spans.size()), "\n");
  semihost::print("expected crc32: ", semihost::hex(m::network::weights_checksum, 8), "\n");
  semihost::print("flash crc32: ", semihost::hex(tinynet::weights_checksum_of(spans), 8), "\n");
  if (!tinynet::verify_weights<m::network>()) {
    semihost::print("weights: corrupted\n");
    return 3;
  }
  semihost::print("weights: intact\n");
  return 0;
}
