// book.replay: given a fresh registry and an upstream seeded with busybox, when chapter 01's
// curl commands as the book prints them (build/book/recorded/01_rehost_busybox.replay.sh,
// written by book/views from the book's recording) run in order, with the reader's
// localhost:5000 and :5001 replaced by this test's ports, then the registry holds
// my-busybox:latest with the upstream's manifest digest, and every blob it names.
#include "test_support.hpp"
#include "busybox_image.hpp"
#include "program_runner.hpp"
#include "registry_instance.hpp"
#include "workspace.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace harness;
namespace fs = std::filesystem;

namespace {

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

}  // namespace

TEST_CASE("book: chapter 01's curl replay re-hosts busybox with the same digest", "[book]") {
    const fs::path recorded = fs::path(WORKBOOK_BOOK_RECORDED) / "01_rehost_busybox.replay.sh";
    INFO("the replay comes from the book's build: cmake --build build --target book");
    const std::string script = test_support::read_existing_file(recorded);
    // Every exchange of the run is one curl command, upstream GETs and uploads alike.
    REQUIRE(script.find("curl ") != std::string::npos);
    REQUIRE(script.find("localhost:5000") != std::string::npos);

    Workspace workspace("book-replay");
    auto upstream = start_registry({.role = "upstream"}, workspace.path());
    auto registry = start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient upstream_client(upstream->host_port());
    const wbclient::Digest busybox = seed_busybox(upstream_client);

    const fs::path replay = workspace.path() / "replay.sh";
    std::ofstream(replay) << replace_all(replace_all(script, "localhost:5000", registry->host_port()),
                                         "localhost:5001", upstream->host_port());
    const RunResult run = run_program({"/bin/bash", replay.string()},
                                      {.working_directory = workspace.path(), .merge_output = true});
    INFO(run.out);
    REQUIRE(run.exit_code == 0);

    wbclient::RegistryClient client(registry->host_port());
    const wbclient::FetchedManifest rehosted = client.get_manifest("my-busybox", "latest");
    CHECK(rehosted.digest == busybox);
    for (const auto& blob : rehosted.parsed.references())
        CHECK(client.blob_size("my-busybox", blob.digest) == blob.size);
}
