/** Builds widget/dist/widget.js when missing or older than widget/src (or always, with force). */
export function buildWidget(opts?: { force?: boolean; quiet?: boolean; srcDir?: string; outFile?: string }): Promise<{ built: boolean; outFile: string }>;
