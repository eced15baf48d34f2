// The distribution layer's one status gate: check_status passes the statuses an endpoint
// expects and turns any other answer into a RegistryError that keeps every error code.
#include "wbclient/distribution/registry_error.hpp"

#include <catch2/catch.hpp>

using wbclient::Request;
using wbclient::Response;

TEST_CASE("status gate: expected statuses pass, others keep every registry error", "[library][registry_error]") {
    const Request request{.method = "PUT", .url = "http://127.0.0.1:5000/v2/r/manifests/latest"};
    Response answer{.status = 400, .reason = "Bad Request"};
    answer.body = R"({"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid"},)"
                  R"({"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"},{"detail":1}]})";
    CHECK(wbclient::check_status(request, answer, {400, 201}).status == 400);
    try {
        wbclient::check_status(request, answer, {201});
        FAIL("a 400 passed a gate that expects 201");
    } catch (const wbclient::RegistryError& error) {
        CHECK(error.status() == 400);
        CHECK(error.code() == "MANIFEST_INVALID");
        REQUIRE(error.errors().size() == 3);
        CHECK(error.errors()[1].code == "MANIFEST_BLOB_UNKNOWN");
        CHECK(error.errors()[1].message == "blob unknown to registry");
        CHECK(error.has_code("MANIFEST_BLOB_UNKNOWN"));
        CHECK_FALSE(error.has_code("BLOB_UNKNOWN"));
    }
    // A body that is not the registry's JSON: no codes, and no crash.
    const Response plain{.status = 404, .reason = "Not Found", .body = "404 page not found\n"};
    try {
        wbclient::check_status(request, plain, {200});
        FAIL("a 404 passed a gate that expects 200");
    } catch (const wbclient::RegistryError& error) {
        CHECK(error.status() == 404);
        CHECK(error.errors().empty());
        CHECK(error.code().empty());
    }
}
