import { decodeNodeImage } from './decode-node.js';
import type { NodeImageInput } from './feature-extractor.node.js';
import {
  BaseRemoteFeatureExtractor,
  type RemoteFeatureExtractorOptions,
} from './remote-extractor.js';

/** FeatureExtractor's API against a KServe v2 server, from Node (global fetch; images via sharp). */
export class RemoteFeatureExtractor extends BaseRemoteFeatureExtractor<NodeImageInput> {
  /** Reads `/v2/models/<model>` from `url`; rejects when the server or the model is not there. */
  static async create(options: RemoteFeatureExtractorOptions): Promise<RemoteFeatureExtractor> {
    return new RemoteFeatureExtractor(
      await BaseRemoteFeatureExtractor.connect(
        { platform: 'node', decode: decodeNodeImage },
        options,
      ),
    );
  }
}
