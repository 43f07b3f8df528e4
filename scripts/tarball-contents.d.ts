/** Types of tarball-contents.js, for the TypeScript tests that import it. */
export interface PackageJson {
  exports?: Record<string, string | Record<string, string>>
  bin?: string | Record<string, string>
}
/** The problems with a tarball's file list; an empty array when there are none. */
export function tarballProblems(files: readonly string[], pkg: PackageJson, root: string): string[]
