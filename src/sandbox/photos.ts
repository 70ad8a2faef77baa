// Profile photos shaped like the recorded ones (an 80×80 PNG attachment with one 32×32 thumbnail);
// ids and sizes are derived from the user, so a regenerated user gets the same photo.

import { hash32 } from './prng';
import type { ZendeskPhoto } from './types';

export function profilePhoto(baseUrl: string, seed: number, userId: number): ZendeskPhoto {
  const h = hash32(seed, 0xf070, userId);
  const photoId = userId + 1 + (h % 997);
  const thumbId = photoId + 128;
  const stamp = 20_000_000 + (h % 9_000_000);
  const file = `profile_image_${userId}_${stamp}`;
  const attachment = (id: number) => `${baseUrl}/api/v2/attachments/${id}.json`;
  const content = (name: string) => `${baseUrl}/system/photos/${photoId}/${name}`;
  return {
    url: attachment(photoId),
    id: photoId,
    file_name: `${file}.png`,
    content_url: content(`${file}.png`),
    mapped_content_url: content(`${file}.png`),
    content_type: 'image/png',
    size: 4000 + (h % 9000),
    width: 80,
    height: 80,
    inline: false,
    deleted: false,
    thumbnails: [
      {
        url: attachment(thumbId),
        id: thumbId,
        file_name: `${file}_thumb.png`,
        content_url: content(`${file}_thumb.png`),
        mapped_content_url: content(`${file}_thumb.png`),
        content_type: 'image/png',
        size: 900 + (h % 1800),
        width: 32,
        height: 32,
        inline: false,
        deleted: false,
      },
    ],
  };
}
