// Issue 16's promise, checked the same way after `podman login` (chapter 10's test) and after
// `docker login` (the compose run's docker test): with nothing but what the login tool stored,
// chapter 01 copies busybox into a protected registry and chapter 05 extends it there.
#pragma once

#include "chapter_run.hpp"
#include "registry_instance.hpp"
#include "workspace.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace stored_login {

/// The environment of a program run with a login tool's files only: HOME and XDG_RUNTIME_DIR
/// point into `folder` (so the reader's own ~/.docker stays out of it), and REGISTRY_AUTH_FILE,
/// XDG_CONFIG_HOME and DOCKER_CONFIG are emptied (unset, for podman, docker and the chapter
/// programs). Not DOCKER_CONFIG=<folder>: `podman login` 4.3 then writes $DOCKER_CONFIG/config.json
/// instead of its own auth.json.
inline std::map<std::string, std::string> isolated_environment(const std::filesystem::path& folder) {
    std::filesystem::create_directories(folder / "home");
    std::filesystem::create_directories(folder / "run");
    return {{"HOME", (folder / "home").string()},
            {"XDG_RUNTIME_DIR", (folder / "run").string()},
            {"XDG_CONFIG_HOME", ""},
            {"DOCKER_CONFIG", ""},
            {"REGISTRY_AUTH_FILE", ""}};
}

/// Runs chapter 01 (open/my-busybox:latest into `registry`) then chapter 05 on it, with
/// `environment` and no workbook credential variable; `credential_file` is where the login
/// tool wrote, which the programs must say they used. Returns both programs' output.
inline std::string run_chapters_01_and_05(const harness::Workspace& workspace, const std::string& open_host,
                                          const harness::RegistryInstance& registry,
                                          std::map<std::string, std::string> environment,
                                          const std::filesystem::path& credential_file) {
    const std::string host = registry.host_port();
    environment["WORKBOOK_REGISTRY"] = host;
    environment["WORKBOOK_STORAGE"] = "";
    const std::string used = "  [login] " + host + " wants credentials: using user 'alice' from ";

    const harness::ChapterRun rehost = harness::run_chapter(
        "01_rehost_busybox",
        {open_host + "/my-busybox:latest", host + "/my-busybox:latest", (workspace.path() / "layout-01").string()},
        workspace, environment);
    INFO("01 against " << host << ":\n" << rehost.result.out << rehost.result.err);
    REQUIRE(rehost.result.exit_code == 0);
    CHECK_THAT(rehost.result.out, Catch::Contains(used) && Catch::Contains(credential_file.string()));
    const auto pushed = harness::select(registry.access_log(), "PUT", "/v2/my-busybox/manifests/latest");
    REQUIRE(pushed.size() == 1);
    CHECK(pushed.front().status == 201);

    const harness::ChapterRun extend = harness::run_chapter("05_base_and_extending_images", {host + "/my-busybox:latest"},
                                                            workspace, environment);
    INFO("05 against " << host << ":\n" << extend.result.out << extend.result.err);
    REQUIRE(extend.result.exit_code == 0);
    CHECK_THAT(extend.result.out, Catch::Contains(used) && Catch::Contains(credential_file.string()));
    for (const char* manifest : {"/v2/my-busybox/manifests/extended", "/v2/my-app/manifests/latest",
                                 "/v2/my-app-naive/manifests/latest"}) {
        INFO(manifest);
        const auto put = harness::select(registry.access_log(), "PUT", manifest);
        REQUIRE(put.size() == 1);
        CHECK(put.front().status == 201);
    }
    // Every request the registry served carried credentials: it served none to nobody.
    for (const auto& run : {rehost.transcript, extend.transcript})
        for (const auto& exchange : run)
            if (exchange.host == host && exchange.status != 401) {
                bool authorized = false;
                for (const auto& [name, value] : exchange.request_headers) authorized |= name == "Authorization";
                CHECK(authorized);
            }
    return rehost.result.out + rehost.result.err + extend.result.out + extend.result.err;
}

}  // namespace stored_login
