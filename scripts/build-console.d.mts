export function buildConsole(opts?: { force?: boolean; quiet?: boolean }): Promise<{ built: boolean; outFile: string }>;
