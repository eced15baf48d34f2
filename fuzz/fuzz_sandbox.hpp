// The sandbox the unpacking fuzzers (fuzz_layer_extractor, fuzz_image_unpacker) write into, and
// the checks they run after every input: nothing written beside or above the target, no
// staging folder left behind, the inputs untouched, no symlink in the result leading outside.
#pragma once

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace fuzz {

[[noreturn]] inline void finding(const char* fuzzer, const std::string& what) {
    std::fprintf(stderr, "%s: %s\n", fuzzer, what.c_str());
    std::abort();
}

// One sandbox per process, under TMPDIR (the CTest driver points it into the build folder):
//   <sandbox>/layer0, layer1 ... the inputs, written anew for every run
//   <sandbox>/jail/a/b/          the fresh folder, created for every run
//   <sandbox>/jail/a/b/root      the target
// Three levels of folders above the target catch a write that climbs out with "..".
struct Sandbox {
    const char* fuzzer;
    std::filesystem::path top;
    explicit Sandbox(const char* name) : fuzzer(name) {
        std::string pattern = (std::filesystem::temp_directory_path() / (std::string(name) + "-XXXXXX")).string();
        if (!::mkdtemp(pattern.data())) finding(fuzzer, "cannot create a sandbox under TMPDIR");
        top = std::filesystem::canonical(pattern);
    }
    ~Sandbox() {
        std::error_code ignored;
        std::filesystem::remove_all(top, ignored);
    }
    std::filesystem::path layer(std::size_t i) const { return top / ("layer" + std::to_string(i)); }
    std::filesystem::path jail() const { return top / "jail"; }
    std::filesystem::path parent() const { return top / "jail" / "a" / "b"; }
    std::filesystem::path target() const { return parent() / "root"; }

    /// Writes the inputs as layer0, layer1, ..., removes those of a longer earlier input, and
    /// makes a fresh, empty jail.
    std::vector<std::filesystem::path> prepare(const std::vector<std::string_view>& inputs) {
        std::vector<std::filesystem::path> files;
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            files.push_back(layer(i));
            std::ofstream out(files.back(), std::ios::binary | std::ios::trunc);
            out.write(inputs[i].data(), static_cast<std::streamsize>(inputs[i].size()));
            if (!out) finding(fuzzer, "cannot write " + files.back().string());
        }
        for (std::size_t i = inputs.size(); std::filesystem::exists(layer(i)); ++i) std::filesystem::remove(layer(i));
        remove_tree(jail());
        std::filesystem::create_directories(parent());
        return files;
    }

    // A layer may hold folders without write or search permission; make them removable.
    void remove_tree(const std::filesystem::path& path) const {
        namespace fs = std::filesystem;
        std::error_code error;
        if (!fs::exists(fs::symlink_status(path))) return;
        ::chmod(path.c_str(), 0700);
        for (auto it = fs::recursive_directory_iterator(path, error);
             !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
            if (it->is_directory(error) && !it->is_symlink(error)) ::chmod(it->path().c_str(), 0700);
        }
        fs::remove_all(path, error);
        if (error) finding(fuzzer, "cannot clean up " + path.string() + ": " + error.message());
    }

    void check(bool extracted, const std::vector<std::string_view>& inputs) const {
        namespace fs = std::filesystem;
        std::set<fs::path> expected = {jail(), jail() / "a", parent()};
        for (std::size_t i = 0; i < inputs.size(); ++i) expected.insert(layer(i));
        std::error_code error;
        for (auto it = fs::recursive_directory_iterator(top, error);
             !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
            const fs::path& path = it->path();
            if (expected.count(path)) continue;
            if (path == target() && extracted) {
                it.disable_recursion_pending();  // its contents are checked below
                continue;
            }
            finding(fuzzer, "unexpected " + path.string() + (extracted ? " after a successful" : " after a failed") +
                                " run");
        }
        if (error) finding(fuzzer, "cannot walk the sandbox: " + error.message());
        if (extracted != fs::is_directory(fs::symlink_status(target())))
            finding(fuzzer, "the target's existence does not match the result");

        // The input files are what was read from, and must be untouched.
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            std::ifstream in(layer(i), std::ios::binary);
            const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
            if (bytes != inputs[i]) finding(fuzzer, "input file " + layer(i).string() + " was modified");
        }

        if (!extracted) return;
        // Every symlink, resolved the way the kernel would, stays inside the target.
        const fs::path root = fs::canonical(target());
        const auto inside = [&](const fs::path& path) {
            const auto relative = path.lexically_relative(root);
            return !relative.empty() && *relative.begin() != "..";
        };
        for (auto it = fs::recursive_directory_iterator(root, error);
             !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
            if (!it->is_symlink()) continue;
            const fs::path link_target = fs::read_symlink(it->path());
            if (link_target.is_absolute()) finding(fuzzer, "symlink " + it->path().string() + " -> " + link_target.string());
            std::error_code resolve_error;
            const fs::path resolved = fs::weakly_canonical(it->path(), resolve_error);
            if (resolve_error) continue;  // a loop, say: it leads nowhere, so not outside
            if (resolved != root && !inside(resolved))
                finding(fuzzer, "symlink " + it->path().lexically_relative(root).string() + " -> " +
                                    link_target.string() + " resolves to " + resolved.string() + ", outside the target");
        }
        if (error) finding(fuzzer, "cannot walk the result: " + error.message());
    }
};

}  // namespace fuzz
