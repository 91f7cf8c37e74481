// prunemap/textView: the text view of an .onnx model (its text exactly as `prunemap text MODEL`
// prints it, weights elided) under the URI `prunemap-text:<model path>-text`, which the server
// records so that annotations on that document find the model. The text view URI of a model the
// server handed out is accepted as well (a content provider refreshing the document asks with it).

import type { ModelParams, TextViewResult } from '../protocol/messages';
import type { Session } from './session';

export function textView(session: Session, params: ModelParams): TextViewResult {
  // A content provider asks again with the text view's own URI (after the model changed): known ones are accepted.
  const model = session.modelPathOf(params?.uri);
  const { analysis } = session.view(model); // a bad model is reported here (one line), before anything is recorded
  return { uri: session.registerTextView(model), text: analysis.text };
}
