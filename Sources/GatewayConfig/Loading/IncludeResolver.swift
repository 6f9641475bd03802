#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Expands `include:` globs relative to the including file, like nginx: a pattern matching no file
/// is fine; matches are taken in sorted filename order; directories are skipped.
enum IncludeResolver {
    static func expand(pattern: String, relativeTo includingFile: String) -> [String] {
        let fullPattern: String
        if pattern.hasPrefix("/") {
            fullPattern = pattern
        } else if let slash = includingFile.lastIndex(of: "/") {
            fullPattern = String(includingFile[...slash]) + pattern
        } else {
            fullPattern = pattern
        }
        return glob(fullPattern)
    }

    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        #if canImport(Glibc)
        let status = Glibc.glob(pattern, GLOB_MARK, nil, &result)
        #else
        let status = Darwin.glob(pattern, GLOB_MARK, nil, &result)
        #endif
        guard status == 0 else { return [] }
        var paths: [String] = []
        for index in 0..<Int(result.gl_pathc) {
            if let pointer = result.gl_pathv[index] {
                let path = String(cString: pointer)
                if !path.hasSuffix("/") { paths.append(path) }
            }
        }
        return paths.sorted()
    }
}
