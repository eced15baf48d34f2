// The transfer layer's parsers on their own, no registry needed.
#include "wbclient/transfer/chunked_upload.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

TEST_CASE("byte counts: as people type them, in powers of 1024", "[library][transfer]") {
    using wbclient::parse_byte_count;
    CHECK(parse_byte_count("1048576") == 1048576);
    CHECK(parse_byte_count("512K") == 512 * 1024);
    CHECK(parse_byte_count("1MiB") == 1024 * 1024);
    CHECK(parse_byte_count("2g") == 2ull << 30);
    CHECK(parse_byte_count("3KB") == 3 * 1024);
    CHECK_THROWS_WITH(parse_byte_count(""), Catch::Contains("expected digits"));
    CHECK_THROWS_WITH(parse_byte_count("M"), Catch::Contains("expected digits"));
    CHECK_THROWS_WITH(parse_byte_count("1T"), Catch::Contains("unknown unit 'T'"));
    CHECK_THROWS_WITH(parse_byte_count("99999999999999999999"), Catch::Contains("too large"));
    CHECK_THROWS_WITH(parse_byte_count("17179869184G"), Catch::Contains("too large"));
}
