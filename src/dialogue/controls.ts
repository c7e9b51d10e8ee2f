const CANCEL = /^(取消|取消办理|取消申请|不办了|我不办了|不想办了|退出|退出办理|结束办理|算了不办了)$/;
const BACK = /^(返回|上一步|返回上一步|回到上一步|后退|退回上一步)$/;
const EDIT = /(改一下|修改|更改|改成|改为|填错|写错|输错|错了|换一下|重新填|重填)/;
const BACK_TO_BOT = /^(返回机器人|回到机器人|取消转人工|不用人工了|继续问机器人)$/;
const CONFIRM = /提交|确认|没问题|对的|正确/;
const MATERIALS_MISSING = /缺|不全|不齐/;
const MATERIALS_ALL = /能提供|都有|齐全|带齐/;

/** The control words of the dialogue, as predicates on a message without spaces. */
export interface Controls {
  cancel(s: string): boolean;
  back(s: string): boolean;
  edit(s: string): boolean;
  /** The message without its edit words ("电话填错了，是139…" → "电话 ，是139…"). */
  stripEdit(s: string): string;
  backToBot(s: string): boolean;
  confirm(s: string): boolean;
  materialsMissing(s: string): boolean;
  materialsAll(s: string): boolean;
}

/** The control words. */
export const controls: Controls = {
  cancel: (s) => CANCEL.test(s) || s.includes('取消办理') || s.includes('不办了'),
  back: (s) => BACK.test(s),
  edit: (s) => EDIT.test(s),
  stripEdit: (s) => s.replace(EDIT, ' '),
  backToBot: (s) => BACK_TO_BOT.test(s),
  confirm: (s) => CONFIRM.test(s),
  materialsMissing: (s) => MATERIALS_MISSING.test(s),
  materialsAll: (s) => MATERIALS_ALL.test(s),
};
