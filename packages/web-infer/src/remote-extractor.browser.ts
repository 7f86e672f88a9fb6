import { decodeBrowserImage } from './decode-browser.js';
import type { BrowserImageInput } from './feature-extractor.browser.js';
import {
  BaseRemoteFeatureExtractor,
  type RemoteFeatureExtractorOptions,
} from './remote-extractor.js';

/** FeatureExtractor's API against a KServe v2 server, from a browser (images via createImageBitmap). */
export class RemoteFeatureExtractor extends BaseRemoteFeatureExtractor<BrowserImageInput> {
  /** Reads `/v2/models/<model>` from `url`; rejects when the server or the model is not there. */
  static async create(options: RemoteFeatureExtractorOptions): Promise<RemoteFeatureExtractor> {
    return new RemoteFeatureExtractor(
      await BaseRemoteFeatureExtractor.connect(
        { platform: 'browser', decode: decodeBrowserImage },
        options,
      ),
    );
  }
}
